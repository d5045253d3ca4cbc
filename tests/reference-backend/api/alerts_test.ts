// Alerting (reference-backend/api/alerts.ts; docs/api.md, "Alerts"): a sensor going silent and
// coming back, and a token a second host starts to use (a duplicate, from real beats with two
// Sensor-Host-Binding values), is an audit event and a JSON POST to ALERT_WEBHOOK_URL, here a real
// receiver on 127.0.0.1 that refuses the first try; the sweep runs off the request path, so a
// receiver that hangs slows no heartbeat; a restart neither repeats a report nor misses a return;
// a webhook host the backend may not reach stops it at start, in one line.
import assert from "node:assert/strict";
import { launchBackend } from "../../../reference-backend/launch.ts";
import { enrollDirectly } from "../../support/console.ts";
import { enrollSeed, heartbeatBody, startRefBackend } from "../../support/refbackend.ts";
import { beatFrom, bindingOf, rotateFrom } from "../../support/sensor_calls.ts";
import { tempDir } from "../../support/tempdir.ts";

// deno-lint-ignore no-explicit-any
type Alert = any;

/** A receiver on 127.0.0.1: the first request is refused with 503 (then retried), then 204s. */
function receiver(hangFirst = false) {
  const alerts: Alert[] = [];
  let requests = 0;
  const hung = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    requests++;
    if (requests === 1) {
      if (hangFirst) await hung.promise;
      return new Response(null, { status: 503 });
    }
    alerts.push({ ...body, contentType: req.headers.get("content-type") });
    return new Response(null, { status: 204 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hooks/t0p-s3cret`,
    alerts,
    requests: () => requests,
    release: () => hung.resolve(),
    close: () => server.shutdown(),
  };
}

async function until<T>(what: () => T | undefined, ms = 20_000): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("alerts: silent and back are audit events and webhook POSTs, retried; a hung receiver slows no beat; a restart repeats nothing", async () => {
  const hook = receiver(true);
  try {
    // Interval 1 s: silent 3 s after the last beat (and not before 3 s after the start).
    await using backend = await startRefBackend(1, undefined, {
      env: { ALERT_WEBHOOK_URL: hook.url },
    });
    const quiet = await enrollDirectly(backend, "sensor-quiet.example", 1, "rack-q");
    const beating = await enrollDirectly(backend, "sensor-busy.example", 1, "rack-b");
    let beat = true;
    const slowest: number[] = [];
    const beats = (async () => {
      while (beat) {
        const started = performance.now();
        await beating.beat(1, 0);
        slowest.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    try {
      // The first delivery hangs in the receiver; beats go on meanwhile.
      await until(() => hook.requests() === 1 ? true : undefined);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      hook.release();
      const silent = await until(() => hook.alerts.find((a) => a.event === "sensor.silent"));
      assert.deepEqual(
        { ...silent, at: undefined, sensor: { ...silent.sensor, lastSeenAt: undefined } },
        {
          event: "sensor.silent",
          at: undefined,
          contentType: "application/json",
          sensor: {
            id: quiet.id,
            label: "rack-q",
            hostname: "sensor-quiet.example",
            sensorIp: "192.168.1.100",
            lastSeenAt: undefined,
          },
        },
      );
      assert.equal(hook.alerts.filter((a) => a.sensor.id === beating.id).length, 0);
      assert.ok(Math.max(...slowest) < 500, `a beat took ${Math.max(...slowest)} ms`);
    } finally {
      beat = false;
      await beats;
    }
    // Stopped while the quiet one is silent: the restart does not report it again.
    assert.equal((await backend.stop()).code, 0);
    assert.ok(!backend.output().includes("t0p-s3cret"), "the webhook's path is not logged");
    await using again = await launchBackend({
      dataDir: backend.dataDir,
      adminToken: backend.adminToken,
      heartbeatIntervalSeconds: 1,
      env: { ALERT_WEBHOOK_URL: hook.url },
    });
    const beatAgain = await fetch(`${again.url}/api/sensors/heartbeat`, {
      method: "POST",
      headers: { Authorization: `Bearer ${quiet.sensorToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        agentVersion: "2.0.0",
        sensorLabel: "rack-q",
        hostname: "sensor-quiet.example",
        sensorIp: "192.168.1.100",
        uptimeSeconds: 9,
        interfaces: [],
      }),
    });
    await beatAgain.body?.cancel();
    assert.equal(beatAgain.status, 200);
    const back = await until(() => hook.alerts.find((a) => a.event === "sensor.back"));
    assert.equal(back.sensor.id, quiet.id);
    // The beating one went silent too once stopped: both are reported, each once.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const reports = hook.alerts.map((a) => `${a.event} ${a.sensor.hostname}`);
    assert.equal(reports.filter((r) => r === "sensor.silent sensor-quiet.example").length, 1);
    const trail = await again.admin("GET", "/api/audit");
    const noticed = trail.events.filter((e: Alert) => e.who === "backend");
    assert.ok(
      noticed.some((e: Alert) => e.action === "sensor.back" && e.target === `sensor ${quiet.id}`),
    );
    assert.ok(noticed.some((e: Alert) => e.action === "sensor.silent" && e.from === null));
  } finally {
    await hook.close();
  }
});

Deno.test("alerts: a webhook host the backend may not connect to stops it at start, in one line", async () => {
  await using dir = await tempDir();
  const failed = await launchBackend({
    dataDir: dir.path,
    adminToken: "a".repeat(32),
    env: { ALERT_WEBHOOK_URL: "https://hooks.example/services/T0/B0/secret" },
  }).then(() => undefined, (error: Error) => error.message);
  assert.equal(
    failed,
    "the backend exited (78) before listening: error: ALERT_WEBHOOK_URL names hooks.example, " +
      "which this backend may not connect to: add it to --allow-net (e.g. " +
      "--allow-net=127.0.0.1,hooks.example) where the backend is started\n",
  );
  assert.ok(!failed.includes("secret"));
});

Deno.test("alerts: a token a second host starts to use is reported once, with the hosts; the rotation that separates the copies ends it; a new copy is reported again; a restart repeats nothing", async () => {
  const hook = receiver();
  try {
    const launch = { env: { ALERT_WEBHOOK_URL: hook.url } };
    // Interval 2 s: the sweep runs every second.
    await using backend = await startRefBackend(2, undefined, launch);
    const sensor = await enrollSeed(backend);
    const [original, clone, another] = await Promise.all(
      ["original", "clone", "another clone"].map(bindingOf),
    );
    const beat = async (token: string, binding: string, hostname: string) => {
      const body = { ...heartbeatBody(), hostname, sensorIp: "10.0.0.7" };
      assert.equal((await beatFrom(backend, token, binding, body)).status, 200);
    };
    await beat(sensor.sensorToken, original, "rack4-a");
    await beat(sensor.sensorToken, clone, "rack4-b");
    const duplicate = await until(() => hook.alerts.find((a) => a.event === "sensor.duplicate"));
    assert.equal(duplicate.sensor.id, sensor.sensorId);
    assert.deepEqual(
      duplicate.hosts.map((host: Alert) => host.hostname),
      ["rack4-b", "rack4-a"],
    );
    // Further beats of both change nothing: one report.
    await beat(sensor.sensorToken, original, "rack4-a");
    await beat(sensor.sensorToken, clone, "rack4-b");
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const duplicates = () => hook.alerts.filter((a) => a.event === "sensor.duplicate").length;
    assert.equal(duplicates(), 1);
    // The original rotates: the new token's list of hosts starts afresh, the copy is shut out.
    const fresh = (await rotateFrom(backend, sensor.sensorToken, original)).body.data.sensorToken;
    await beat(fresh, original, "rack4-a");
    assert.equal((await beatFrom(backend, sensor.sensorToken, clone)).status, 401);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal(duplicates(), 1);
    // A copy made after the rotation is a duplicate of its own: reported again.
    await beat(fresh, another, "rack4-c");
    await until(() => duplicates() === 2 ? true : undefined);
    // A restart does not report it a third time.
    assert.equal((await backend.stop()).code, 0);
    await using again = await launchBackend({
      dataDir: backend.dataDir,
      adminToken: backend.adminToken,
      heartbeatIntervalSeconds: 2,
      ...launch,
    });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal(duplicates(), 2);
    const trail = await again.admin("GET", "/api/audit");
    const reported = trail.events.filter((e: Alert) => e.action === "sensor.duplicate");
    assert.equal(reported.length, 2);
    assert.equal(reported[0].who, "backend");
    assert.equal(reported[0].target, `sensor ${sensor.sensorId}`);
    assert.match(reported[0].detail, /its token used by 2 hosts: rack4-c 10\.0\.0\.7, rack4-a/);
  } finally {
    await hook.close();
  }
});
