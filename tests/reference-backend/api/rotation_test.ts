// A sensor token's rotation at the reference backend (reference-backend/api/rotation.ts; docs/api.md,
// POST /api/sensors/token) over real HTTP, asked with plain fetch as any agent speaking the
// protocol would: a new token; the old one valid until the new one is used, then 401; the same new
// token to a repeated request and to requests at once; beats racing the first use of the new
// token; a revocation while a rotation is pending; and what the request may carry.
import assert from "node:assert/strict";
import { fingerprint } from "../../../lib/secrets.ts";
import { digest } from "../../../reference-backend/store/mod.ts";
import { enrollSeed, MACHINE_A, seedPayload, startRefBackend } from "../../support/refbackend.ts";
import { beatFrom, bindingOf, rotateFrom } from "../../support/sensor_calls.ts";

const TOKEN_RULE = /^[A-Za-z0-9._+/=-]{8,4096}$/;

Deno.test("rotation: a new token; the old one keeps working until the new one is used, then it is 401", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const host = await bindingOf("sensor-a");
  const old = sensor.sensorToken;
  assert.equal((await beatFrom(backend, old, host)).status, 200);
  const rotated = await rotateFrom(backend, old, host);
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  assert.equal(rotated.body.success, true);
  const fresh: string = rotated.body.data.sensorToken;
  assert.match(fresh, TOKEN_RULE);
  assert.notEqual(fresh, old);
  // Pending: the old token still beats, and the reply asks again (the last one may have been lost).
  const pending = (await backend.call("GET", `/api/sensors/${sensor.sensorId}`)).body.data;
  assert.equal(pending.rotationPending, true);
  assert.equal(pending.lastRotatedAt, null);
  const beforeUse = await beatFrom(backend, old, host);
  assert.equal(beforeUse.status, 200);
  assert.equal(beforeUse.body.data.rotateSensorToken, true);
  // The first request made with the new token completes the rotation.
  const firstUse = await beatFrom(backend, fresh, host);
  assert.equal(firstUse.status, 200);
  assert.equal(firstUse.body.data.rotateSensorToken, undefined, "nothing more to rotate");
  assert.equal((await beatFrom(backend, old, host)).status, 401);
  assert.equal((await rotateFrom(backend, old, host)).status, 401);
  assert.equal((await beatFrom(backend, fresh, host)).status, 200);
  const [shown] = await backend.fleet();
  assert.equal(shown.id, sensor.sensorId);
  assert.equal(shown.rotationPending, false);
  assert.equal(shown.rotationRequested, false);
  assert.ok(Date.parse(shown.lastRotatedAt) >= Date.parse(shown.tokenIssuedAt));
  assert.ok(Date.parse(shown.tokenIssuedAt) > Date.parse(shown.enrolledAt));
  assert.equal(shown.heartbeats, 4, "every accepted beat counted, on either token");
  const log = (await backend.stop()).output;
  assert.match(log, /sensor token rotated: new token issued/);
  const completed = log.split("\n").filter((line) => /rotation completed/.test(line));
  assert.equal(completed.length, 1, "the first use alone completes it");
  assert.match(completed[0], new RegExp(`sensorId=${sensor.sensorId} token=${fingerprint(fresh)}`));
  for (const token of [old, fresh]) {
    assert.ok(!log.includes(token), "no token in the log");
  }
});

Deno.test("rotation: asked again with the old token before the new one is used, the same new token; ten requests at once get one token", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const host = await bindingOf("sensor-a");
  const first = await rotateFrom(backend, sensor.sensorToken, host);
  const again = await rotateFrom(backend, sensor.sensorToken, host);
  assert.equal(again.status, 200);
  assert.equal(again.body.data.sensorToken, first.body.data.sensorToken, "no chain of tokens");
  // A request made with the new token rotates from it: a new one, and the first one retired.
  const other = await enrollSeed(backend);
  const racing = await Promise.all(
    Array.from({ length: 10 }, () => rotateFrom(backend, other.sensorToken, host)),
  );
  assert.deepEqual(racing.map((answer) => answer.status), Array(10).fill(200));
  const issued = new Set(racing.map((answer) => answer.body.data.sensorToken));
  assert.equal(issued.size, 1, "one new token, however many asked at once");
  const [fresh] = issued;
  assert.equal((await beatFrom(backend, fresh, host)).status, 200);
  assert.equal((await beatFrom(backend, other.sensorToken, host)).status, 401);
  // The store holds neither token in clear, only their digests.
  const { output } = await backend.stop();
  assert.match(output, /sensor token issued again/);
  const store = new TextDecoder("latin1").decode(
    await Deno.readFile(`${backend.dataDir}/kv.sqlite3`),
  );
  for (const token of [fresh, first.body.data.sensorToken]) {
    assert.ok(!store.includes(token), "a new token is kept sealed, never in clear");
  }
  assert.ok(store.includes(digest(fresh)));
});

Deno.test("rotation: beats with the old token racing the first use of the new one: each answer consistent, the old token 401 after", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const host = await bindingOf("sensor-a");
  const fresh = (await rotateFrom(backend, sensor.sensorToken, host)).body.data.sensorToken;
  const answers = await Promise.all([
    ...Array.from({ length: 20 }, () => beatFrom(backend, sensor.sensorToken, host)),
    beatFrom(backend, fresh, host),
    ...Array.from({ length: 20 }, () => beatFrom(backend, sensor.sensorToken, host)),
  ]);
  assert.equal(answers[20].status, 200, "the new token is accepted");
  const statuses = answers.map((answer) => answer.status);
  assert.ok(statuses.every((status) => status === 200 || status === 401), statuses.join(","));
  assert.equal((await beatFrom(backend, sensor.sensorToken, host)).status, 401);
  const accepted = statuses.filter((status) => status === 200).length;
  const [shown] = await backend.fleet();
  assert.equal(shown.heartbeats, accepted, "every 200 counted once, no 401 counted");
  assert.equal(shown.rotationPending, false);
  assert.doesNotMatch(backend.output(), /status=5\d\d|failed:/);
});

Deno.test("rotation: a revocation while a new token is pending stops both tokens, and the rotation", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const host = await bindingOf("sensor-a");
  const fresh = (await rotateFrom(backend, sensor.sensorToken, host)).body.data.sensorToken;
  const revoked = await backend.call("POST", `/api/sensors/${sensor.sensorId}/revoke`);
  assert.equal(revoked.status, 200);
  assert.equal(revoked.body.data.rotationPending, false);
  assert.equal(revoked.body.data.rotationRequested, false);
  assert.equal((await beatFrom(backend, sensor.sensorToken, host)).status, 401);
  assert.equal((await beatFrom(backend, fresh, host)).status, 401);
  assert.equal((await rotateFrom(backend, sensor.sensorToken, host)).status, 401);
  assert.equal((await rotateFrom(backend, fresh, host)).status, 401);
});

Deno.test("rotation: another host holding the old token is refused the pending one, and the sensor shows as a duplicate", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const original = await bindingOf("sensor-a");
  const copy = await bindingOf("sensor-a-clone");
  const fresh = (await rotateFrom(backend, sensor.sensorToken, original)).body.data.sensorToken;
  const refused = await rotateFrom(backend, sensor.sensorToken, copy);
  assert.equal(refused.status, 401);
  assert.match(refused.body.error, /another host/);
  assert.equal(JSON.stringify(refused.body).includes(fresh), false);
  // The host it was issued to still gets it again, and a host sending no binding cannot be told
  // apart from it.
  assert.equal(
    (await rotateFrom(backend, sensor.sensorToken, original)).body.data.sensorToken,
    fresh,
  );
  const shown = (await backend.call("GET", `/api/sensors/${sensor.sensorId}`)).body.data;
  assert.equal(shown.duplicate.bindings, 2);
  assert.deepEqual(
    shown.duplicate.seen.map((host: { binding: string }) => host.binding),
    [original.slice(0, 12), copy.slice(0, 12)],
  );
  // Once the original uses the new token, the copy's old one is 401, and the new token's only host
  // is the original: no duplicate.
  assert.equal((await beatFrom(backend, fresh, original)).status, 200);
  assert.equal((await beatFrom(backend, sensor.sensorToken, copy)).status, 401);
  const after = (await backend.call("GET", `/api/sensors/${sensor.sensorId}`)).body.data;
  assert.equal(after.duplicate, null);
});

Deno.test("rotation: a token first issued to a host without a binding is given again to any holder of the old token", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const fresh = (await rotateFrom(backend, sensor.sensorToken, null)).body.data.sensorToken;
  const again = await rotateFrom(backend, sensor.sensorToken, await bindingOf("sensor-a"));
  assert.equal(again.status, 200);
  assert.equal(again.body.data.sensorToken, fresh);
});

Deno.test("rotation: no token, a forged one or an enrollment's install token is 401 before the body is read; the body is {} or none; POST only", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  const none = await backend.call("POST", "/api/sensors/token", {}, null);
  assert.equal(none.status, 401);
  assert.equal((await rotateFrom(backend, crypto.randomUUID(), null)).status, 401);
  assert.equal((await rotateFrom(backend, sensor.installToken, null)).status, 401);
  // A stranger's body is not read: even a malformed one is 401, not 400.
  assert.equal((await rotateFrom(backend, crypto.randomUUID(), null, { extra: 1 })).status, 401);
  const extra = await rotateFrom(backend, sensor.sensorToken, null, { sensorId: sensor.sensorId });
  assert.equal(extra.status, 400);
  assert.match(extra.body.error, /^body: unknown field "sensorId"/);
  assert.equal((await rotateFrom(backend, sensor.sensorToken, null, [])).status, 400);
  assert.equal(
    (await backend.call("GET", "/api/sensors/token", undefined, sensor.sensorToken)).status,
    405,
  );
  // Without a body at all: as `{}`.
  const empty = await backend.call("POST", "/api/sensors/token", undefined, sensor.sensorToken);
  assert.equal(empty.status, 200);
  assert.match(empty.body.data.sensorToken, TOKEN_RULE);
});

Deno.test("rotation: an enrollment retried after the rotation completed is 401, not the retired token; before, it is the token still valid", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend, MACHINE_A);
  const retry = () => backend.enroll(seedPayload(sensor.installToken), sensor.key);
  const fresh = (await rotateFrom(backend, sensor.sensorToken, null)).body.data.sensorToken;
  const pending = await retry();
  assert.equal(pending.status, 200, "the first token is still valid while the new one waits");
  assert.equal(pending.body.data.sensorToken, sensor.sensorToken);
  assert.equal((await beatFrom(backend, fresh, null)).status, 200);
  assert.equal((await retry()).status, 401);
  assert.match(backend.output(), /its sensor's token was rotated since/);
});
