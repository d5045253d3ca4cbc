// A rotation through the heartbeat's cached path (reference-backend/store/beats.ts) when the cache
// is stale: two real backend processes on one store stand in for two backends on a hosted Deno KV,
// each holding the sensor in memory while the other rotates its token. The store's check on the
// record read keeps them right: one pending token however it is asked for, the old token refused
// everywhere once the new one was used.
import assert from "node:assert/strict";
import { launchBackend } from "../../../reference-backend/launch.ts";
import {
  type BackendClient,
  backendClient,
  enrollSeed,
  startRefBackend,
} from "../../support/refbackend.ts";
import { beatFrom, bindingOf, rotateFrom } from "../../support/sensor_calls.ts";

/** A backend and a second backend process on its store (`second` calls it); disposing stops both. */
async function onOneStore() {
  const first = await startRefBackend();
  let process;
  try {
    process = await launchBackend({ dataDir: first.dataDir, adminToken: first.adminToken });
  } catch (error) {
    await first[Symbol.asyncDispose]();
    throw error;
  }
  return {
    first,
    process,
    second: backendClient(process.url, first.adminToken),
    async [Symbol.asyncDispose]() {
      await process.stop();
      await first[Symbol.asyncDispose]();
    },
  };
}

Deno.test("rotation cache: a second backend with the sensor in memory asks for the pending token, gets the same one, and refuses the old token once the new one was used", async () => {
  await using backends = await onOneStore();
  const { first, process, second } = backends;
  const sensor = await enrollSeed(first);
  const host = await bindingOf("sensor-a");
  const old = sensor.sensorToken;
  // Both keep the sensor in memory.
  for (const backend of [first, second]) {
    assert.equal((await beatFrom(backend, old, host)).status, 200);
  }
  const fresh = (await rotateFrom(first, old, host)).body.data.sensorToken;
  // The second's copy knows of no rotation: its write fails the check, and it reads the record.
  const asked = await beatFrom(second, old, host);
  assert.equal(asked.status, 200);
  assert.equal(asked.body.data.rotateSensorToken, true);
  const again = await rotateFrom(second, old, host);
  assert.equal(again.body.data.sensorToken, fresh, "the pending token, not a second one");
  // The new token used through the second; the first still holds the old token's record in memory.
  assert.equal((await beatFrom(second, fresh, host)).status, 200);
  assert.equal((await beatFrom(first, old, host)).status, 401);
  assert.equal((await rotateFrom(first, old, host)).status, 401);
  assert.equal((await beatFrom(first, fresh, host)).status, 200);
  const [shown] = await first.fleet();
  assert.equal(shown.heartbeats, 5);
  assert.equal(shown.rotationPending, false);
  assert.doesNotMatch(first.output() + process.output(), /status=5\d\d|failed:/);
});

Deno.test("rotation cache: two backends asked to rotate at once issue one token between them", async () => {
  await using backends = await onOneStore();
  const { first, process, second } = backends;
  const host = await bindingOf("sensor-a");
  /** A rotation request, asked again after a 503 (two processes on one local store: busy). */
  const rotation = async (backend: BackendClient, token: string) => {
    for (;;) {
      const answer = await rotateFrom(backend, token, host);
      if (answer.status !== 503) return answer;
      assert.equal(answer.body.error, "the record is busy; retry");
    }
  };
  for (let round = 0; round < 5; round++) {
    const sensor = await enrollSeed(first);
    for (const backend of [first, second]) {
      assert.equal((await beatFrom(backend, sensor.sensorToken, host)).status, 200);
    }
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => rotation(i % 2 ? first : second, sensor.sensorToken)),
    );
    assert.deepEqual(answers.map((answer) => answer.status), Array(6).fill(200));
    const issued = new Set(answers.map((answer) => answer.body.data.sensorToken));
    assert.equal(issued.size, 1, `round ${round}`);
  }
  assert.doesNotMatch(first.output() + process.output(), /status=500|failed:/);
});

Deno.test("rotation cache: an answer that writes nothing is not decided on memory alone: the old token asked again at a backend that issued the new one, after it was used at the other, is 401", async () => {
  await using backends = await onOneStore();
  const { first, second } = backends;
  const sensor = await enrollSeed(first);
  const host = await bindingOf("sensor-a");
  // Issued through the second, which keeps the record with the pending token in memory.
  const fresh = (await rotateFrom(second, sensor.sensorToken, host)).body.data.sensorToken;
  assert.equal((await beatFrom(first, fresh, host)).status, 200, "used through the first");
  // The second's memory still says "pending": asked again there, it must read the store.
  assert.equal((await rotateFrom(second, sensor.sensorToken, host)).status, 401);
  // And an admin's request made at the first reaches the next beat at the second.
  await first.call("POST", `/api/sensors/${sensor.sensorId}/rotate`);
  assert.equal((await beatFrom(second, fresh, host)).body.data.rotateSensorToken, true);
});
