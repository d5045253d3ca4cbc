// The admin's "rotate now" at the reference backend (reference-backend/api/rotation.ts; docs/api.md,
// POST /api/sensors/{id}/rotate and POST /api/sensors/rotate) over real HTTP: the sensor's next
// beat is asked to rotate until its new token is used; the fleet's request reaches every sensor
// not revoked; who may ask, and what unknown and revoked sensors get.
import assert from "node:assert/strict";
import { enrollSeed, startRefBackend } from "../../support/refbackend.ts";
import { beatFrom, bindingOf, rotateFrom } from "../../support/sensor_calls.ts";

Deno.test("rotate now: the sensor's next beats are asked to rotate until the new token is used; other sensors are not", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const bystander = await enrollSeed(backend);
  const host = await bindingOf("sensor-a");
  assert.equal(
    (await beatFrom(backend, sensor.sensorToken, host)).body.data.rotateSensorToken,
    undefined,
  );
  const asked = await backend.call("POST", `/api/sensors/${sensor.sensorId}/rotate`);
  assert.equal(asked.status, 200);
  assert.equal(asked.body.data.id, sensor.sensorId);
  assert.equal(asked.body.data.rotationRequested, true);
  assert.equal(asked.body.data.rotationPending, false);
  // Asking twice changes nothing.
  const twice = await backend.call("POST", `/api/sensors/${sensor.sensorId}/rotate`);
  assert.equal(twice.status, 200);
  assert.equal(twice.body.data.rotationRequested, true);
  assert.equal(
    (await beatFrom(backend, sensor.sensorToken, host)).body.data.rotateSensorToken,
    true,
  );
  assert.equal(
    (await beatFrom(backend, sensor.sensorToken, host)).body.data.rotateSensorToken,
    true,
  );
  assert.equal(
    (await beatFrom(backend, bystander.sensorToken, null)).body.data.rotateSensorToken,
    undefined,
  );
  // Issued but not used: still asked (the reply carrying the token may have been lost).
  const fresh = (await rotateFrom(backend, sensor.sensorToken, host)).body.data.sensorToken;
  const pending = await beatFrom(backend, sensor.sensorToken, host);
  assert.equal(pending.body.data.rotateSensorToken, true);
  assert.equal((await beatFrom(backend, fresh, host)).body.data.rotateSensorToken, undefined);
  const shown = (await backend.call("GET", `/api/sensors/${sensor.sensorId}`)).body.data;
  assert.equal(shown.rotationRequested, false);
  assert.ok(shown.lastRotatedAt !== null);
  assert.match(
    backend.output(),
    new RegExp(`sensor token rotation requested sensorId=${sensor.sensorId}`),
  );
});

Deno.test("rotate now: the fleet's request reaches every sensor not revoked, and answers how many", async () => {
  await using backend = await startRefBackend();
  const sensors = [];
  for (let i = 0; i < 4; i++) sensors.push(await enrollSeed(backend));
  await backend.call("POST", `/api/sensors/${sensors[3].sensorId}/revoke`);
  const fleet = await backend.call("POST", "/api/sensors/rotate", {});
  assert.equal(fleet.status, 200);
  assert.deepEqual(fleet.body.data, { requested: 3 });
  for (const sensor of sensors.slice(0, 3)) {
    const beat = await beatFrom(backend, sensor.sensorToken, null);
    assert.equal(beat.body.data.rotateSensorToken, true, sensor.sensorId);
  }
  const listed = await backend.fleet();
  assert.deepEqual(listed.map((sensor) => sensor.rotationRequested), [true, true, true, false]);
  // Without a body it is the same request; a field in it is refused.
  assert.deepEqual((await backend.call("POST", "/api/sensors/rotate")).body.data, { requested: 3 });
  const extra = await backend.call("POST", "/api/sensors/rotate", { olderThanDays: 30 });
  assert.equal(extra.status, 400);
  assert.match(extra.body.error, /unknown field "olderThanDays"/);
});

Deno.test("rotate now: admin only; an unknown sensor is 404, a revoked one 409", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const one = `/api/sensors/${sensor.sensorId}/rotate`;
  for (const bearer of [null, sensor.sensorToken]) {
    assert.equal((await backend.call("POST", one, undefined, bearer)).status, 401);
    assert.equal((await backend.call("POST", "/api/sensors/rotate", {}, bearer)).status, 401);
  }
  assert.equal((await backend.fleet())[0].rotationRequested, false, "nothing was asked");
  assert.equal((await backend.call("GET", one)).status, 405);
  const unknown = await backend.call("POST", `/api/sensors/${crypto.randomUUID()}/rotate`);
  assert.equal(unknown.status, 404);
  await backend.call("POST", `/api/sensors/${sensor.sensorId}/revoke`);
  const revoked = await backend.call("POST", one);
  assert.equal(revoked.status, 409);
  assert.match(revoked.body.error, /revoked/);
});
