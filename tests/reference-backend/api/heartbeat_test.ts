// Heartbeats at the reference backend (reference-backend/api/sensors.ts; docs/api.md, POST
// /api/sensors/heartbeat) over real HTTP: what a beat records, who is refused, and an interface list
// of thousands stored and shown whole. Many sensors beating at once, and a second backend on the
// same store, are store/beats_test.ts.
import assert from "node:assert/strict";
import { randomToken } from "../../../reference-backend/store/mod.ts";
import { enrollSeed, heartbeatBody, MACHINE_A, startRefBackend } from "../../support/refbackend.ts";

Deno.test("heartbeat: an issued token is 200; last seen, sensorIp and counters are recorded", async () => {
  await using backend = await startRefBackend(5);
  const sensor = await enrollSeed(backend, MACHINE_A);
  const body: Record<string, unknown> = {
    ...heartbeatBody(5_000_000_000),
    sensorIp: "10.10.10.71",
  };
  const answer = await backend.beat(sensor.sensorToken, body);
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body, { success: true, data: { heartbeatIntervalSeconds: 5 } });
  const detail = await backend.call("GET", `/api/sensors/${sensor.sensorId}`);
  assert.equal(detail.status, 200);
  const shown = detail.body.data;
  assert.equal(shown.sensorIp, "10.10.10.71");
  assert.equal(shown.label, "sensor-1");
  assert.equal(shown.heartbeats, 1);
  assert.equal(shown.uptimeSeconds, 42);
  assert.equal(shown.interfaces[0].bytesSent, 5_000_000_000);
  assert.deepEqual(shown.interfaces, body.interfaces);
  assert.ok(Date.parse(shown.lastSeenAt) >= Date.parse(shown.enrolledAt));
});

Deno.test("heartbeat: a forged token, or none, is 401; a bad body from a sensor is 400", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  assert.equal((await backend.beat(randomToken())).status, 401);
  const none = await backend.call("POST", "/api/sensors/heartbeat", heartbeatBody(), null);
  assert.equal(none.status, 401);
  const bad = await backend.beat(sensor.sensorToken, { ...heartbeatBody(), uptimeSeconds: -1 });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /^uptimeSeconds: /);
});

Deno.test("heartbeat: thousands of interfaces are stored and shown whole", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const nic = (heartbeatBody().interfaces as Record<string, unknown>[])[1];
  const interfaces = Array.from({ length: 6000 }, (_, i) => ({
    ...nic,
    name: `veth${String(i).padStart(8, "0")}`,
    bytesSent: i * 1_000_003,
  }));
  const body = { ...heartbeatBody(), interfaces };
  assert.ok(JSON.stringify(body).length < 1024 * 1024);
  assert.equal((await backend.beat(sensor.sensorToken, body)).status, 200);
  const shown = (await backend.call("GET", `/api/sensors/${sensor.sensorId}`)).body.data;
  assert.deepEqual(shown.interfaces, interfaces);
  // A shorter list replaces it, leaving no slice of the old one behind.
  assert.equal((await backend.beat(sensor.sensorToken)).status, 200);
  const after = (await backend.call("GET", `/api/sensors/${sensor.sensorId}`)).body.data;
  assert.deepEqual(after.interfaces, heartbeatBody().interfaces);
});
