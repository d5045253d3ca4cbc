// The heartbeat lifecycle (docs/protocol.md, POST /api/sensors/heartbeat): the real agent against a
// real backend on 127.0.0.1, in real time where timing is the point, and the real loop in-process
// with an instant wait where the point is the sequence of decisions.
import assert from "node:assert/strict";
import type { AgentError } from "../../lib/errors.ts";
import { runHeartbeats } from "../../lib/backend/heartbeat.ts";
import type { HostSnapshot } from "../../lib/host/mod.ts";
import { setLogOptions } from "../../lib/log.ts";
import { newToken, startAgent } from "../support/agent.ts";
import {
  beatAccepted,
  enrolled,
  routes,
  type SeenRequest,
  startBackend,
  waitForRequest,
} from "../support/backend.ts";
import { tempDir } from "../support/tempdir.ts";
import { rootReads } from "../support/hosttree.ts";
import { FIXTURE, FIXTURE_READS, HOST_ENV as FIXTURE_ENV } from "../support/seed.ts";

const HOST_ENV = { ...FIXTURE_ENV, LOG_LEVEL: "debug" };
const isBeat = (r: SeenRequest) => r.path === "/api/sensors/heartbeat";

/** An enrolled sensor's config dir (or a fresh one with an install token), and agent options. */
async function sensor(backendUrl: string, sensorToken?: string) {
  const dir = await tempDir();
  const config = dir.join("sensor-agent.env");
  const secret = sensorToken === undefined
    ? `INSTALL_TOKEN=${newToken("install")}`
    : `SENSOR_TOKEN=${sensorToken}`;
  await Deno.writeTextFile(config, `SENSOR_ID=sensor-7\nBACKEND_URL=${backendUrl}\n${secret}\n`);
  return {
    dir,
    args: ["run", "--config", config],
    options: { read: FIXTURE_READS, write: [dir.path], env: HOST_ENV },
  };
}

/** Arrival times of heartbeats at the backend, in ms since the first. */
function beatTimes(requests: SeenRequest[], arrivals: number[]): number[] {
  return arrivals.slice(0, requests.filter(isBeat).length).map((t) => t - arrivals[0]);
}

Deno.test("heartbeat: beats arrive with the Bearer token, at the interval from the enrollment", async () => {
  const sensorToken = newToken("sensor");
  const arrivals: number[] = [];
  await using backend = startBackend(routes(() => enrolled(sensorToken, 1), () => {
    arrivals.push(performance.now());
    return beatAccepted();
  }));
  const s = await sensor(backend.url);
  await using _ = s.dir;
  const agent = startAgent(s.args, s.options);
  await waitForRequest(backend, () => arrivals.length >= 4);
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  const times = beatTimes(backend.requests, arrivals);
  for (let i = 1; i < 4; i++) {
    const gap = times[i] - times[i - 1];
    assert.ok(gap >= 850 && gap <= 1250, `gap ${i} is ${gap} ms, want 1 s x [0.9, 1.1]`);
  }
  const beats = backend.requests.filter(isBeat);
  assert.ok(beats.every((b) => b.headers.get("authorization") === `Bearer ${sensorToken}`));
  const body = JSON.parse(beats[3].body);
  assert.deepEqual(Object.keys(body), [
    "agentVersion",
    "sensorLabel",
    "hostname",
    "sensorIp",
    "uptimeSeconds",
    "interfaces",
  ]);
  assert.equal(body.agentVersion, "2.0.0");
  assert.equal(body.sensorLabel, "sensor-7");
  assert.ok(
    Number.isInteger(body.uptimeSeconds) && body.uptimeSeconds >= 2,
    `uptime ${body.uptimeSeconds}`,
  );
  assert.equal(
    body.interfaces.find((i: { name: string }) => i.name === "enp130s0f0").bytesRecv,
    2147483648,
  );
  assert.match(run.stderr, /DEBUG heartbeat sent/);
});

Deno.test("heartbeat: the first beat goes right after a restart with a persisted token", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(
    routes(() => new Response(null, { status: 500 }), () => beatAccepted()),
  );
  const s = await sensor(backend.url, sensorToken);
  await using _ = s.dir;
  const started = performance.now();
  const agent = startAgent(s.args, s.options);
  await waitForRequest(backend, isBeat);
  const elapsed = performance.now() - started;
  await agent.waitFor(/heartbeat sent/); // logged once the reply is read, a moment after arrival
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.ok(elapsed < 3000, `first beat after ${elapsed} ms`);
  assert.match(
    run.stderr,
    /DEBUG heartbeat sent nextInSeconds=(2[7-9]|3[0-3])/,
    "a restart starts at 30 s",
  );
});

Deno.test("heartbeat: a new interval in a reply becomes the interval", async () => {
  const arrivals: number[] = [];
  await using backend = startBackend(routes(() => enrolled(newToken("sensor"), 5), () => {
    arrivals.push(performance.now());
    return beatAccepted(1);
  }));
  const s = await sensor(backend.url);
  await using _ = s.dir;
  const agent = startAgent(s.args, s.options);
  await waitForRequest(backend, () => arrivals.length >= 2);
  const run = await agent.stop();
  const gap = arrivals[1] - arrivals[0];
  assert.ok(gap >= 850 && gap <= 1250, `gap ${gap} ms: the reply's 1 s, not the enrollment's 5 s`);
  assert.match(run.stderr, /INFO heartbeat interval changed from=5 to=1/);
});

Deno.test("heartbeat: a 503 with Retry-After delays the next beat at least that long", async () => {
  const arrivals: number[] = [];
  await using backend = startBackend(routes(() => enrolled(newToken("sensor"), 1), (_, n) => {
    arrivals.push(performance.now());
    return n === 1
      ? new Response("busy", { status: 503, headers: { "Retry-After": "2" } })
      : beatAccepted();
  }));
  const s = await sensor(backend.url);
  await using _ = s.dir;
  const agent = startAgent(s.args, s.options);
  await agent.waitFor(/INFO backend back after 1 failed heartbeats/); // logged once the reply is read
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  const gap = arrivals[1] - arrivals[0];
  assert.ok(gap >= 2000, `gap ${gap} ms after Retry-After: 2`);
  assert.ok(gap < 3000, `gap ${gap} ms: the floor is Retry-After, not more`);
  assert.match(run.stderr, /WARN backend lost: HTTP 503/);
  assert.match(run.stderr, /INFO backend back after 1 failed heartbeats/);
});

Deno.test("heartbeat: a backend that goes down, then up, gets beats again without a restart", async () => {
  const sensorToken = newToken("sensor");
  const first = startBackend(routes(() => enrolled(sensorToken, 1), () => beatAccepted()));
  const port = first.port;
  const s = await sensor(first.url);
  await using _ = s.dir;
  const agent = startAgent(s.args, s.options);
  try {
    await waitForRequest(first, isBeat);
  } finally {
    await first.close(); // down: connections to the port are refused from now on
  }
  await agent.waitFor(/WARN backend lost: cannot reach 127\.0\.0\.1/);
  const controller = new AbortController();
  const seen: string[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port,
    signal: controller.signal,
    onListen: () => {},
  }, (req) => {
    seen.push(req.headers.get("authorization") ?? "");
    return beatAccepted();
  });
  try {
    await agent.waitFor(/INFO backend back after \d+ failed heartbeats/, 20_000);
  } finally {
    controller.abort();
    await server.finished;
  }
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.equal(seen[0], `Bearer ${sensorToken}`);
  assert.equal(
    run.stderr.match(/WARN backend lost/g)?.length,
    1,
    "lost is said once, not per retry",
  );
});

for (const status of [401, 403]) {
  Deno.test(`heartbeat: a ${status} stops the agent with 77 and no further beats`, async () => {
    await using backend = startBackend(
      routes(() => enrolled(newToken("sensor"), 1), () => new Response(null, { status })),
    );
    const s = await sensor(backend.url);
    await using _ = s.dir;
    const run = await startAgent(s.args, s.options).exited();
    assert.equal(run.code, 77, run.stderr);
    assert.match(
      run.stderr,
      /ERROR the backend rejected the sensor token .*obtain a new install token, then run `enroll --force` with INSTALL_TOKEN set/i,
    );
    await new Promise((done) => setTimeout(done, 1200));
    assert.equal(backend.requests.filter(isBeat).length, 1);
  });
}

Deno.test("heartbeat: SIGTERM with a request in flight exits 0 within a second", async () => {
  const held = Promise.withResolvers<void>();
  await using backend = startBackend(routes(() => enrolled(newToken("sensor"), 1), async () => {
    await held.promise;
    return beatAccepted();
  }));
  const s = await sensor(backend.url);
  await using _ = s.dir;
  const agent = startAgent(s.args, s.options);
  await waitForRequest(backend, isBeat);
  const sent = performance.now();
  const run = await agent.stop("SIGTERM");
  const took = performance.now() - sent;
  held.resolve();
  assert.equal(run.code, 0, run.stderr);
  assert.ok(took < 1000, `exit took ${took} ms`);
  assert.match(run.stderr, /INFO stopped by a signal/);
});

Deno.test("heartbeat: SIGINT while waiting between beats exits 0 at once", async () => {
  await using backend = startBackend(
    routes(() => enrolled(newToken("sensor"), 3600), () => beatAccepted()),
  );
  const s = await sensor(backend.url);
  await using _ = s.dir;
  const agent = startAgent(s.args, s.options);
  await agent.waitFor(/heartbeat sent/);
  const sent = performance.now();
  const run = await agent.stop("SIGINT");
  assert.equal(run.code, 0, run.stderr);
  assert.ok(performance.now() - sent < 1000);
});

/** A fixed host snapshot for the in-process loop: the point there is the schedule, not the host. */
const snapshot = (): Promise<HostSnapshot> =>
  Promise.resolve({
    facts: { hostname: "h", osInfo: "o", architecture: "x86_64" },
    sensorIp: "192.0.2.1",
    interfaces: [],
  });

Deno.test("heartbeat loop: backoff grows within full-jitter bounds while down and resets when back", async () => {
  const failing = 5;
  await using backend = startBackend((_, n) =>
    n <= failing ? new Response("down", { status: 502 }) : beatAccepted()
  );
  const delays: number[] = [];
  const lines: string[] = [];
  setLogOptions({ write: (line) => lines.push(line), level: "info" });
  try {
    const code = await runHeartbeats({
      backend: { url: new URL(backend.url), timeoutMs: 5000 },
      sensorToken: newToken("sensor"),
      intervalSeconds: 30,
      snapshot,
      signal: new AbortController().signal,
      wait: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
      random: () => 0.999,
      maxBeats: failing + 2,
    });
    assert.equal(code, 0);
  } finally {
    setLogOptions({ write: (line) => console.error(line) });
  }
  assert.equal(backend.requests.length, failing + 2);
  const ceilings = [60, 120, 240, 300, 300].map((s) => s * 1000 * 0.999);
  assert.deepEqual(delays.slice(0, failing).map(Math.round), ceilings.map(Math.round));
  assert.ok(
    delays[failing] >= 27_000 && delays[failing] <= 33_000,
    "a success goes back to the interval",
  );
  assert.equal(lines.filter((l) => l.includes("backend lost")).length, 1);
  assert.equal(
    lines.filter((l) => l.includes(`backend back after ${failing} failed heartbeats`)).length,
    1,
  );
});

Deno.test("heartbeat loop: thousands of real beats without waiting", async () => {
  await using backend = startBackend(() => beatAccepted());
  const code = await runHeartbeats({
    backend: { url: new URL(backend.url), timeoutMs: 5000 },
    sensorToken: newToken("sensor"),
    intervalSeconds: 30,
    snapshot,
    signal: new AbortController().signal,
    wait: () => Promise.resolve(),
    maxBeats: 2000,
  });
  assert.equal(code, 0);
  assert.equal(backend.requests.length, 2000);
});

Deno.test("heartbeat loop: a rejected token throws the 77", async () => {
  await using backend = startBackend(() => new Response(null, { status: 401 }));
  await assert.rejects(
    () =>
      runHeartbeats({
        backend: { url: new URL(backend.url), timeoutMs: 5000 },
        sensorToken: newToken("sensor"),
        intervalSeconds: 30,
        snapshot,
        signal: new AbortController().signal,
        wait: () => Promise.resolve(),
      }),
    (error: AgentError) => error.exitCode === 77,
  );
  assert.equal(backend.requests.length, 1);
});

Deno.test("heartbeat: missing host roots are warned about once, not on every beat", async () => {
  await using backend = startBackend(
    routes(() => enrolled(newToken("sensor"), 1), () => beatAccepted()),
  );
  const s = await sensor(backend.url);
  await using _ = s.dir;
  // Granted as the shipped set grants /host/proc's files, and missing.
  const roots = { proc: "/nonexistent/ravenxcope/proc", sys: "/nonexistent/ravenxcope/sys" };
  const env = { ...HOST_ENV, HOST_PROC: roots.proc, HOST_SYS: roots.sys };
  const agent = startAgent(s.args, { ...s.options, read: rootReads(roots), env });
  await waitForRequest(backend, () => backend.requests.filter(isBeat).length >= 2);
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr.match(/interface flags and counters are missing/g)?.length, 1);
});

Deno.test("heartbeat: after startup the agent holds no env; write and read of its config dir stay", async () => {
  await using backend = startBackend(
    routes(() => enrolled(newToken("sensor"), 1), () => beatAccepted()),
  );
  const s = await sensor(backend.url);
  await using _ = s.dir;
  const agent = startAgent(s.args, s.options);
  await waitForRequest(backend, isBeat);
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  const held = run.stderr.split("\n").find((line) => line.includes("DEBUG permissions held"));
  assert.ok(held, run.stderr);
  // Kept for a rotated token and the host binding (docs/threat-model.md).
  assert.match(held, / readConfig=granted /);
  assert.match(held, / writeConfig=granted /);
  assert.match(held, / env=prompt /);
  assert.match(held, / net=granted /);
  assert.match(held, new RegExp(`${FIXTURE}/proc/net/dev:granted`));
  assert.match(
    await Deno.readTextFile(s.dir.join("sensor-agent.env")),
    /^SENSOR_TOKEN=/m,
    "saved before the drop",
  );
});
