// Enrollment at the reference backend (reference-backend/api/sensors.ts, enrollment.ts; docs/api.md,
// POST /api/sensors/enroll) over real HTTP: the reply's shape, one-time use under a race of twenty,
// the idempotent retry with the consuming request's key, and the refusals (401, 400 naming the
// field, 415) that leave the token unspent. The replay rule in process at the end.
import assert from "node:assert/strict";
import { SENSOR_TOKEN_PATTERN } from "../../../lib/config/mod.ts";
import { replayRefusal } from "../../../reference-backend/api/enrollment.ts";
import { digest, randomToken, REPLAY_WINDOW_MS } from "../../../reference-backend/store/mod.ts";
import {
  enrollSeed,
  keyFor,
  MACHINE_A,
  MACHINE_B,
  seedPayload,
  startRefBackend,
} from "../../support/refbackend.ts";

Deno.test("enroll: the seed's example gets a sensor id, a 256-bit token in the contract's charset and the interval", async () => {
  await using backend = await startRefBackend(7);
  const installToken = await backend.mint();
  const answer = await backend.enroll(
    seedPayload(installToken),
    keyFor(installToken, MACHINE_A),
  );
  assert.equal(answer.status, 200);
  assert.equal(answer.body.success, true);
  const data = answer.body.data;
  assert.deepEqual(Object.keys(data), [
    "sensorId",
    "sensorToken",
    "backendUrl",
    "heartbeatIntervalSeconds",
  ]);
  assert.match(
    data.sensorId,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.match(data.sensorToken, SENSOR_TOKEN_PATTERN);
  assert.match(data.sensorToken, /^[A-Za-z0-9_-]{43}$/, "base64url of 32 bytes");
  assert.equal(data.backendUrl, backend.url);
  assert.equal(data.heartbeatIntervalSeconds, 7);
});

/** Nineteen losing enrollments from one address pass the per-address failure limit (10 by default),
 * which would answer some of them 429 before their token is even looked at. */
const RACE_LIMITS = { env: { ENROLL_FAILURE_LIMIT: "100" } };

Deno.test("enroll: 20 concurrent enrollments with one token: exactly one 200, the others 401", async () => {
  await using backend = await startRefBackend(30, undefined, RACE_LIMITS);
  const installToken = await backend.mint();
  // Twenty machines racing with one leaked token: each sends its own Idempotency-Key.
  const answers = await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) => backend.enroll(seedPayload(installToken), keyFor(installToken, `machine-${i}`)),
    ),
  );
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [200, ...Array(19).fill(401)]);
  assert.equal((await backend.fleet()).length, 1);
});

Deno.test("enroll: 20 concurrent enrollments with one token and no key: exactly one 200", async () => {
  await using backend = await startRefBackend(30, undefined, RACE_LIMITS);
  const installToken = await backend.mint();
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => backend.enroll(seedPayload(installToken))),
  );
  assert.equal(answers.filter((a) => a.status === 200).length, 1);
  assert.equal(answers.filter((a) => a.status === 401).length, 19);
});

Deno.test("enroll: a retry with the consuming request's Idempotency-Key gets the same credential", async () => {
  await using backend = await startRefBackend();
  const first = await enrollSeed(backend, MACHINE_A);
  const retry = await backend.enroll(seedPayload(first.installToken), first.key);
  assert.equal(retry.status, 200);
  assert.equal(retry.body.data.sensorId, first.sensorId);
  assert.equal(retry.body.data.sensorToken, first.sensorToken);
  assert.equal((await backend.fleet()).length, 1, "no second sensor");
  assert.equal((await backend.beat(retry.body.data.sensorToken)).status, 200);
});

Deno.test("enroll: 20 concurrent requests with one token and one key all get the one credential", async () => {
  await using backend = await startRefBackend();
  const installToken = await backend.mint();
  const key = keyFor(installToken, MACHINE_A);
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => backend.enroll(seedPayload(installToken), key)),
  );
  assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200));
  assert.equal(new Set(answers.map((a) => a.body.data.sensorToken)).size, 1);
  assert.equal(new Set(answers.map((a) => a.body.data.sensorId)).size, 1);
  assert.equal((await backend.fleet()).length, 1);
});

Deno.test("enroll: a spent token without the key, or with another key, is 401", async () => {
  await using backend = await startRefBackend();
  const first = await enrollSeed(backend, MACHINE_A);
  const payload = seedPayload(first.installToken);
  const noKey = await backend.enroll(payload);
  const otherKey = await backend.enroll(payload, keyFor(first.installToken, MACHINE_B));
  for (const answer of [noKey, otherKey]) {
    assert.equal(answer.status, 401);
    assert.deepEqual(answer.body, {
      success: false,
      error: "install token unknown, expired or already used",
    });
  }
});

Deno.test("enroll: a token spent by a request without a key is never replayed", async () => {
  await using backend = await startRefBackend();
  const first = await enrollSeed(backend);
  const retry = await backend.enroll(
    seedPayload(first.installToken),
    keyFor(first.installToken, MACHINE_A),
  );
  assert.equal(retry.status, 401);
});

Deno.test("enroll: an expired or unknown install token is 401", async () => {
  await using backend = await startRefBackend();
  const installToken = await backend.mint({ ttlSeconds: 1 });
  await new Promise((done) => setTimeout(done, 1_100));
  assert.equal((await backend.enroll(seedPayload(installToken))).status, 401);
  assert.equal((await backend.enroll(seedPayload(randomToken()))).status, 401);
  assert.equal((await backend.fleet()).length, 0);
});

Deno.test("enroll: a malformed payload is 400 naming the field, and the token stays unspent", async () => {
  await using backend = await startRefBackend();
  const installToken = await backend.mint();
  const seed = seedPayload(installToken);
  const nic = (seed.interfaces as Record<string, unknown>[])[0];
  const cases: [unknown, RegExp][] = [
    [{ ...seed, sensorPort: 0 }, /^sensorPort: must be an integer 1-65535$/],
    [{ ...seed, sensorPort: "22" }, /^sensorPort: /],
    [{ ...seed, hostname: "" }, /^hostname: must not be empty$/],
    [{ ...seed, hostname: "a\nb" }, /^hostname: must not hold control characters$/],
    [{ ...seed, sensorIp: "sensor.example" }, /^sensorIp: must be an IPv4 or IPv6 address/],
    [{ ...seed, extra: true }, /^body: unknown field "extra"$/],
    [{ ...seed, interfaces: {} }, /^interfaces: must be an array$/],
    [{ ...seed, interfaces: [{ ...nic, isUp: "yes" }] }, /^interfaces\[0\]\.isUp: /],
    [{ ...seed, interfaces: [{ ...nic, bytesSent: -1 }] }, /^interfaces\[0\]\.bytesSent: /],
    [{ ...seed, interfaces: [{ ...nic, bytesRecv: 2 ** 53 }] }, /^interfaces\[0\]\.bytesRecv: /],
    [{ ...seed, interfaces: [{ ...nic, mtu: 1500 }] }, /^interfaces\[0\]: unknown field "mtu"$/],
    ["seed", /^body: must be a JSON object$/],
  ];
  const { installToken: _, ...withoutToken } = seed;
  cases.push([withoutToken, /^body: missing field "installToken"$/]);
  for (const [body, reason] of cases) {
    const answer = await backend.enroll(body);
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.match(answer.body.error, reason);
  }
  const post = (body: string, type?: string) =>
    fetch(`${backend.url}/api/sensors/enroll`, {
      method: "POST",
      body,
      headers: type === undefined ? {} : { "Content-Type": type },
    });
  const notJson = await post("{", "application/json");
  assert.equal(notJson.status, 400);
  await notJson.body?.cancel();
  // JSON only: a form post, or text without a type (fetch says text/plain), is refused unread.
  for (const type of [undefined, "application/x-www-form-urlencoded", "text/json"]) {
    const refused = await post(JSON.stringify(seed), type);
    assert.equal(refused.status, 415, type);
    assert.match((await refused.json()).error, /Content-Type: application\/json/);
  }
  const badKey = await backend.enroll(seed, "NOT-HEX");
  assert.equal(badKey.status, 400);
  assert.match(badKey.body.error, /^Idempotency-Key: /);
  assert.equal((await backend.enroll(seed)).status, 200, "the token was not spent by a 400");
});

Deno.test("replay: only with the consuming request's key, within 10 minutes", () => {
  const key = digest(keyFor("install", MACHINE_A));
  const consumption = { at: 1_000_000, sensorId: "s", idempotencyKeyDigest: key };
  assert.equal(replayRefusal(consumption, key, consumption.at), undefined);
  assert.equal(replayRefusal(consumption, key, consumption.at + REPLAY_WINDOW_MS), undefined);
  assert.match(replayRefusal(consumption, key, consumption.at + REPLAY_WINDOW_MS + 1)!, /window/);
  assert.match(replayRefusal(consumption, null, consumption.at)!, /no Idempotency-Key/);
  assert.match(
    replayRefusal(consumption, digest(keyFor("install", MACHINE_B)), consumption.at)!,
    /another Idempotency-Key/,
  );
  assert.match(
    replayRefusal({ ...consumption, idempotencyKeyDigest: null }, key, consumption.at)!,
    /without Idempotency-Key/,
  );
});
