// The admin API of the reference backend (reference-backend/api/admin.ts; docs/api.md, GET
// /api/sensors, POST /api/sensors/{id}/revoke) over real HTTP: the fleet and when a sensor counts
// as online, and revocation: the sensor's next beat and any retried enrollment are 401. Minting
// install tokens is install/install_test.ts.
import assert from "node:assert/strict";
import { digest, ONLINE_INTERVALS } from "../../../reference-backend/store/mod.ts";
import { enrollSeed, MACHINE_A, seedPayload, startRefBackend } from "../../support/refbackend.ts";

Deno.test("fleet: lists id, hostname, sensorIp, enrolled at, last seen and online; admin only", async () => {
  await using backend = await startRefBackend(1);
  const sensor = await enrollSeed(backend);
  assert.equal((await backend.beat(sensor.sensorToken)).status, 200);
  const [shown] = await backend.fleet();
  assert.equal(shown.id, sensor.sensorId);
  assert.equal(shown.hostname, "sensor-ubuntu-host");
  assert.equal(shown.sensorIp, "192.168.1.100");
  assert.ok(!Number.isNaN(Date.parse(shown.enrolledAt)));
  assert.ok(!Number.isNaN(Date.parse(shown.lastSeenAt)));
  assert.equal(shown.online, true);
  assert.equal(shown.revokedAt, null);
  // No digest and no token: the only fields naming the token say when it was issued.
  const tokenish = Object.keys(shown).filter((key) => /digest|token/i.test(key));
  assert.deepEqual(tokenish, ["tokenIssuedAt", "tokenAgeSeconds"]);
  const text = JSON.stringify(shown);
  for (const secret of [sensor.sensorToken, digest(sensor.sensorToken)]) {
    assert.ok(!text.includes(secret));
  }
  assert.equal((await backend.call("GET", "/api/sensors", undefined, null)).status, 401);
  const asSensor = await backend.call("GET", "/api/sensors", undefined, sensor.sensorToken);
  assert.equal(asSensor.status, 401);
  // Silent for more than three intervals: offline.
  await new Promise((done) => setTimeout(done, ONLINE_INTERVALS * 1_000 + 300));
  assert.equal((await backend.fleet())[0].online, false);
});

Deno.test("revoke: the sensor's next heartbeat is 401, and the fleet shows it revoked and offline", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  assert.equal((await backend.beat(sensor.sensorToken)).status, 200);
  const revoked = await backend.call("POST", `/api/sensors/${sensor.sensorId}/revoke`);
  assert.equal(revoked.status, 200);
  assert.ok(revoked.body.data.revokedAt);
  assert.equal((await backend.beat(sensor.sensorToken)).status, 401);
  const [shown] = await backend.fleet();
  assert.equal(shown.online, false);
  assert.equal(shown.revokedAt, revoked.body.data.revokedAt);
  const again = await backend.call("POST", `/api/sensors/${sensor.sensorId}/revoke`);
  assert.equal(again.body.data.revokedAt, revoked.body.data.revokedAt, "revoking twice is a no-op");
});

Deno.test("revoke: a retried enrollment after revocation is 401", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend, MACHINE_A);
  await backend.call("POST", `/api/sensors/${sensor.sensorId}/revoke`);
  const retry = await backend.enroll(seedPayload(sensor.installToken), sensor.key);
  assert.equal(retry.status, 401);
});

Deno.test("revoke: needs the admin token; an unknown sensor is 404", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const path = `/api/sensors/${sensor.sensorId}/revoke`;
  assert.equal((await backend.call("POST", path, undefined, null)).status, 401);
  assert.equal((await backend.call("POST", path, undefined, sensor.sensorToken)).status, 401);
  assert.equal((await backend.beat(sensor.sensorToken)).status, 200, "still enrolled");
  const unknown = await backend.call("POST", `/api/sensors/${crypto.randomUUID()}/revoke`);
  assert.equal(unknown.status, 404);
});
