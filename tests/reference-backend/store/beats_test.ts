// The reference backend's heartbeat path (reference-backend/store/beats.ts, groupcommit.ts): it
// keeps each sensor's record in memory and commits the beats of many sensors together, and is still
// right when the store changes under it. Two real backend processes on one store stand in for a
// second backend on a hosted Deno KV: each one's cache goes stale whenever the other writes.
import assert from "node:assert/strict";
import { launchBackend } from "../../../reference-backend/launch.ts";
import {
  heartbeatBody,
  type RefBackend,
  seedPayload,
  startRefBackend,
} from "../../support/refbackend.ts";

/** Enrolls `count` sensors, a few at a time; their ids and tokens. */
async function enrollMany(backend: RefBackend, count: number) {
  const sensors: { id: string; token: string }[] = [];
  while (sensors.length < count) {
    sensors.push(
      ...await Promise.all(
        Array.from({ length: Math.min(20, count - sensors.length) }, async () => {
          const answer = await backend.enroll(seedPayload(await backend.mint()));
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          return { id: answer.body.data.sensorId, token: answer.body.data.sensorToken };
        }),
      ),
    );
  }
  return sensors;
}

/**
 * A heartbeat to `url` with `token`; its status. A 503 with Retry-After (the store busy, as two
 * processes on one SQLite file make it) is asked again as the agent would, only sooner; a 503
 * without it, or any other 5xx, is returned: a bug.
 */
async function beat(url: string, token: string, bytesSent = 1): Promise<number> {
  for (let attempt = 0;; attempt++) {
    const response = await fetch(`${url}/api/sensors/heartbeat`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(heartbeatBody(bytesSent)),
    });
    await response.body?.cancel();
    const busy = response.status === 503 && response.headers.has("retry-after");
    if (!busy || attempt === 20) return response.status;
    await new Promise((done) => setTimeout(done, 20 + Math.random() * 80));
  }
}

Deno.test("beats: 100 sensors beating at once share commits; every 200 is counted once, and a sensor revoked between rounds gets 401", async () => {
  await using backend = await startRefBackend();
  const sensors = await enrollMany(backend, 100);
  const ok = new Map<string, number>();
  for (let round = 0; round < 3; round++) {
    if (round === 2) {
      const revoked = await backend.call("POST", `/api/sensors/${sensors[50].id}/revoke`);
      assert.equal(revoked.status, 200);
    }
    const statuses = await Promise.all(
      sensors.map((sensor, i) => beat(backend.url, sensor.token, round * 1000 + i)),
    );
    statuses.forEach((status, i) => {
      const expected = round === 2 && i === 50 ? 401 : 200;
      assert.equal(status, expected, `round ${round}, sensor ${i}`);
      if (status === 200) ok.set(sensors[i].id, (ok.get(sensors[i].id) ?? 0) + 1);
    });
  }
  for (const sensor of await backend.fleet()) {
    assert.equal(sensor.heartbeats, ok.get(sensor.id) ?? 0, sensor.id);
  }
  const detail = await backend.call("GET", `/api/sensors/${sensors[7].id}`);
  assert.equal(detail.body.data.interfaces[0].bytesSent, 2007, "the last beat's counters");
  assert.doesNotMatch(backend.output(), /status=5\d\d|failed:/);
});

Deno.test("beats: with a second backend on the same store, a stale cache is caught by the store's check: no beat lost or counted twice, a revocation there is 401 here", async () => {
  await using first = await startRefBackend();
  await using second = await launchBackend({
    dataDir: first.dataDir,
    adminToken: first.adminToken,
  });
  const sensors = await enrollMany(first, 10);
  // Each backend caches every sensor, then the other writes each record: both caches are stale.
  let counted = 0;
  for (const url of [first.url, second.url, first.url, second.url]) {
    const statuses = await Promise.all(sensors.map((sensor) => beat(url, sensor.token)));
    assert.deepEqual(statuses, Array(10).fill(200), url);
    counted++;
  }
  // Concurrent beats on both at once, which also puts stale and fresh records in one batch.
  const both = await Promise.all(
    sensors.flatMap((sensor) => [beat(first.url, sensor.token), beat(second.url, sensor.token)]),
  );
  assert.deepEqual(both, Array(20).fill(200));
  counted += 2;
  // Each record as the store holds it (the listing is each backend's memory of its own writes).
  for (const sensor of sensors) {
    const shown = await first.call("GET", `/api/sensors/${sensor.id}`);
    assert.equal(shown.body.data.heartbeats, counted);
  }
  // Revoked through the second: the first, which has the sensor in memory, refuses its next beat.
  await second.admin("POST", `/api/sensors/${sensors[3].id}/revoke`);
  assert.equal(await beat(first.url, sensors[3].token), 401);
  assert.equal(await beat(first.url, sensors[4].token), 200);
});
