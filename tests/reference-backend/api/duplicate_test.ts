// Copied hosts at the reference backend (reference-backend/store/bindings.ts; docs/api.md, Copied
// hosts) over real HTTP: two different Sensor-Host-Bindings beating with one token make the sensor
// a duplicate, with the hosts seen (bounded, newest first); one binding, none, or a malformed header
// never do; copies beating at the same moment are all noted.
import assert from "node:assert/strict";
import { enrollSeed, heartbeatBody, startRefBackend } from "../../support/refbackend.ts";
import { beatFrom, BINDING_HEADER, bindingOf } from "../../support/sensor_calls.ts";

/** A beat's body as the host `hostname` at `sensorIp` sends it. */
function bodyOf(hostname: string, sensorIp: string): Record<string, unknown> {
  return { ...heartbeatBody(), hostname, sensorIp };
}

Deno.test("duplicate: two bindings beating with one token make a duplicate, with each host's name and address, newest first", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const original = await bindingOf("sensor-a");
  const copy = await bindingOf("sensor-a-clone");
  const token = sensor.sensorToken;
  assert.equal(
    (await beatFrom(backend, token, original, bodyOf("rack4-a", "10.0.0.4"))).status,
    200,
  );
  assert.equal(
    (await beatFrom(backend, token, original, bodyOf("rack4-a", "10.0.0.4"))).status,
    200,
  );
  assert.equal((await backend.fleet())[0].duplicate, null, "one host so far");
  const before = Date.now();
  assert.equal((await beatFrom(backend, token, copy, bodyOf("rack4-b", "10.0.0.5"))).status, 200);
  const [shown] = await backend.fleet();
  assert.equal(shown.duplicate.bindings, 2);
  assert.ok(Date.parse(shown.duplicate.firstSeenAt) >= before - 1000);
  assert.deepEqual(
    shown.duplicate.seen.map((host: Record<string, unknown>) => ({ ...host, lastSeenAt: 0 })),
    [
      { binding: copy.slice(0, 12), hostname: "rack4-b", sensorIp: "10.0.0.5", lastSeenAt: 0 },
      { binding: original.slice(0, 12), hostname: "rack4-a", sensorIp: "10.0.0.4", lastSeenAt: 0 },
    ],
  );
  // The original beats again: first in the list, and still a duplicate since the same moment.
  assert.equal(
    (await beatFrom(backend, token, original, bodyOf("rack4-a", "10.0.0.4"))).status,
    200,
  );
  const detail = (await backend.call("GET", `/api/sensors/${sensor.sensorId}`)).body.data;
  assert.equal(detail.duplicate.seen[0].hostname, "rack4-a");
  assert.equal(detail.duplicate.firstSeenAt, shown.duplicate.firstSeenAt);
  assert.equal(detail.duplicate.bindings, 2);
  // Other sensors are not affected.
  const other = await enrollSeed(backend);
  assert.equal((await beatFrom(backend, other.sensorToken, copy)).status, 200);
  const otherShown = (await backend.call("GET", `/api/sensors/${other.sensorId}`)).body.data;
  assert.equal(otherShown.duplicate, null);
});

Deno.test("duplicate: one binding, none, or a header that is not 64 lowercase hex digits is never a duplicate, and never refused", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const host = await bindingOf("sensor-a");
  const malformed = [host.toUpperCase(), host.slice(1), `${host}0`, "not a binding", ""];
  for (const binding of [host, null, host, ...malformed, host]) {
    const answer = binding === null || binding === host
      ? await beatFrom(backend, sensor.sensorToken, binding)
      : await backend.call("POST", "/api/sensors/heartbeat", heartbeatBody(), sensor.sensorToken, {
        [BINDING_HEADER]: binding,
      });
    assert.equal(answer.status, 200, String(binding));
  }
  const [shown] = await backend.fleet();
  assert.equal(shown.heartbeats, 9);
  assert.equal(shown.duplicate, null);
  // A sensor whose beats never carried a binding.
  const plain = await enrollSeed(backend);
  for (let i = 0; i < 3; i++) {
    assert.equal((await beatFrom(backend, plain.sensorToken, null)).status, 200);
  }
  const plainShown = (await backend.call("GET", `/api/sensors/${plain.sensorId}`)).body.data;
  assert.equal(plainShown.duplicate, null);
});

Deno.test("duplicate: copies beating at the same moment are all noted (their beats share one write), and the list stays bounded", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const hosts = await Promise.all(Array.from({ length: 12 }, (_, i) => bindingOf(`clone-${i}`)));
  // All at once: a sensor's beats waiting for its write are merged, their bindings with them.
  const answers = await Promise.all(
    hosts.map((binding, i) =>
      beatFrom(backend, sensor.sensorToken, binding, bodyOf(`clone-${i}`, `10.0.1.${i}`))
    ),
  );
  assert.deepEqual(answers.map((answer) => answer.status), Array(12).fill(200));
  const [atOnce] = await backend.fleet();
  assert.ok(atOnce.heartbeats === 12 && atOnce.duplicate.bindings === 12, "none missed");
  // Then each once more, in order, so the newest is known.
  for (const [i, binding] of hosts.entries()) {
    const body = bodyOf(`clone-${i}`, `10.0.1.${i}`);
    assert.equal((await beatFrom(backend, sensor.sensorToken, binding, body)).status, 200);
  }
  const [shown] = await backend.fleet();
  assert.equal(shown.duplicate.bindings, 12);
  assert.equal(shown.duplicate.seen.length, 8, "at most 8 hosts listed");
  assert.deepEqual(
    shown.duplicate.seen.map((host: { hostname: string }) => host.hostname),
    [11, 10, 9, 8, 7, 6, 5, 4].map((i) => `clone-${i}`),
  );
  assert.equal(shown.heartbeats, 24);
});

Deno.test("duplicate: the fleet's count and duplicate=true hold the sensors whose copies still beat, not a revoked one, which keeps its hosts", async () => {
  await using backend = await startRefBackend();
  const [kept, revoked, single] = [
    await enrollSeed(backend),
    await enrollSeed(backend),
    await enrollSeed(backend),
  ];
  for (const sensor of [kept, revoked]) {
    for (const host of ["original", "clone"]) {
      const beat = await beatFrom(backend, sensor.sensorToken, await bindingOf(host));
      assert.equal(beat.status, 200);
    }
  }
  assert.equal((await beatFrom(backend, single.sensorToken, await bindingOf("one"))).status, 200);
  const listed = async () =>
    (await backend.call("GET", "/api/sensors?duplicate=true")).body.data as {
      total: number;
      counts: { duplicate: number };
      sensors: { id: string }[];
    };
  const before = await listed();
  assert.equal(before.total, 2);
  assert.equal(before.counts.duplicate, 2);
  assert.equal((await backend.call("POST", `/api/sensors/${revoked.sensorId}/revoke`)).status, 200);
  const after = await listed();
  assert.deepEqual(after.sensors.map((sensor) => sensor.id), [kept.sensorId]);
  assert.equal(after.counts.duplicate, 1);
  const shown = (await backend.call("GET", `/api/sensors/${revoked.sensorId}`)).body.data;
  assert.equal(shown.duplicate.bindings, 2, "the hosts it had are still shown");
});
