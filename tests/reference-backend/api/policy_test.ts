// The token age policy of the reference backend (SENSOR_TOKEN_MAX_AGE_DAYS; docs/api.md, POST
// /api/sensors/token): a beat whose token is older than the limit gets `rotateSensorToken: true`,
// until the rotation completes; 0 never asks. The handler runs in this process over a real store
// and real HTTP, with the backend's clock moved by the test instead of waiting 90 days.
import assert from "node:assert/strict";
import { startInProcessBackend } from "../../support/inprocess_backend.ts";
import { enrollSeed } from "../../support/refbackend.ts";
import { beatFrom, bindingOf, rotateFrom } from "../../support/sensor_calls.ts";

const DAY_MS = 86_400_000;

Deno.test("policy: by default a token older than 90 days is asked to rotate, and a rotated token is young again", async () => {
  await using backend = await startInProcessBackend();
  const enrolledAt = backend.now;
  const sensor = await enrollSeed(backend);
  const host = await bindingOf("sensor-a");
  backend.now = enrolledAt + 90 * DAY_MS;
  const atLimit = await beatFrom(backend, sensor.sensorToken, host);
  assert.deepEqual(atLimit.body.data, { heartbeatIntervalSeconds: 30 }, "90 days: not older yet");
  let [shown] = await backend.fleet();
  assert.equal(shown.tokenAgeSeconds, 90 * 86_400);
  assert.equal(shown.tokenIssuedAt, new Date(enrolledAt).toISOString());
  assert.equal(shown.rotationRequested, false);
  backend.now = enrolledAt + 90 * DAY_MS + 1000;
  const past = await beatFrom(backend, sensor.sensorToken, host);
  assert.equal(past.status, 200);
  assert.equal(past.body.data.rotateSensorToken, true);
  [shown] = await backend.fleet();
  assert.equal(shown.rotationRequested, true);
  assert.equal(shown.rotationPending, false);
  // The agent asks; the new token's first use completes the rotation.
  const issuedAt = backend.now;
  const fresh = (await rotateFrom(backend, sensor.sensorToken, host)).body.data.sensorToken;
  backend.now += 30_000;
  const firstUse = await beatFrom(backend, fresh, host);
  assert.deepEqual(firstUse.body.data, { heartbeatIntervalSeconds: 30 });
  [shown] = await backend.fleet();
  assert.equal(shown.tokenIssuedAt, new Date(issuedAt).toISOString());
  assert.equal(shown.lastRotatedAt, new Date(backend.now).toISOString());
  assert.equal(shown.tokenAgeSeconds, 30);
  assert.equal(shown.rotationRequested, false);
  // 90 days after the rotation, the new token is old in its turn.
  backend.now = issuedAt + 91 * DAY_MS;
  assert.equal((await beatFrom(backend, fresh, host)).body.data.rotateSensorToken, true);
});

Deno.test("policy: SENSOR_TOKEN_MAX_AGE_DAYS=0 never asks; another limit asks past it", async () => {
  {
    await using backend = await startInProcessBackend({ sensorTokenMaxAgeDays: 0 });
    const enrolledAt = backend.now;
    const sensor = await enrollSeed(backend);
    backend.now = enrolledAt + 3650 * DAY_MS;
    const beat = await beatFrom(backend, sensor.sensorToken, null);
    assert.deepEqual(beat.body.data, { heartbeatIntervalSeconds: 30 });
    const [shown] = await backend.fleet();
    assert.equal(shown.rotationRequested, false);
    assert.equal(shown.tokenAgeSeconds, 3650 * 86_400);
  }
  {
    await using backend = await startInProcessBackend({ sensorTokenMaxAgeDays: 7 });
    const enrolledAt = backend.now;
    const sensor = await enrollSeed(backend);
    backend.now = enrolledAt + 6 * DAY_MS;
    assert.equal(
      (await beatFrom(backend, sensor.sensorToken, null)).body.data.rotateSensorToken,
      undefined,
    );
    backend.now = enrolledAt + 8 * DAY_MS;
    assert.equal(
      (await beatFrom(backend, sensor.sensorToken, null)).body.data.rotateSensorToken,
      true,
    );
  }
});

Deno.test("policy: a sensor enrolled before rotation existed reads as a token issued at enrollment, and rotates", async () => {
  await using backend = await startInProcessBackend();
  const enrolledAt = backend.now;
  const sensor = await enrollSeed(backend);
  // Enrollment writes none of the rotation's fields, as the code before rotation did.
  const [shown] = await backend.fleet();
  assert.equal(shown.tokenIssuedAt, shown.enrolledAt);
  assert.equal(shown.lastRotatedAt, null);
  assert.equal(shown.duplicate, null);
  backend.now = enrolledAt + 100 * DAY_MS;
  assert.equal(
    (await beatFrom(backend, sensor.sensorToken, null)).body.data.rotateSensorToken,
    true,
  );
});
