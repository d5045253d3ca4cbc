// What the reference backend accepts from a sensor, and how it shows it (reference-backend/api/
// validate.ts, display.ts; issue 14): the seed's example passes as it is, field rules in process,
// and sensor text that could forge what an operator reads is stored as received but logged escaped.
import assert from "node:assert/strict";
import { escapeForDisplay } from "../../../reference-backend/api/display.ts";
import {
  checkEnrollment,
  checkHeartbeat,
  checkIdempotencyKey,
  checkMintRequest,
} from "../../../reference-backend/api/validate.ts";
import { heartbeatBody, keyFor, seedPayload, startRefBackend } from "../../support/refbackend.ts";

Deno.test("validate: the seed's example and a heartbeat pass as they are", () => {
  const seed = seedPayload("install-token-value");
  assert.deepEqual(checkEnrollment(seed), { ok: true, value: seed });
  assert.deepEqual(checkHeartbeat(heartbeatBody()), { ok: true, value: heartbeatBody() });
  assert.deepEqual(checkHeartbeat({ ...heartbeatBody(), sensorLabel: null }).ok, true);
  assert.deepEqual(checkEnrollment({ ...seed, sensorIp: "" }).ok, true, "no address found");
  assert.deepEqual(checkEnrollment({ ...seed, sensorIp: "fe80::1" }).ok, true);
});

Deno.test("validate: mint requests default to one hour; keys are 64 lowercase hex digits", () => {
  assert.deepEqual(checkMintRequest(undefined), {
    ok: true,
    value: { ttlSeconds: 3600, note: undefined, label: undefined },
  });
  assert.equal(checkMintRequest({ ttlSeconds: 7 * 86_400 + 1 }).ok, false);
  assert.deepEqual(checkIdempotencyKey(null), { ok: true, value: undefined });
  const key = keyFor("t", "m");
  assert.equal(checkIdempotencyKey(key).ok, true);
  assert.equal(checkIdempotencyKey(key.toUpperCase()).ok, false);
});

Deno.test("display: a hostname with bidi and C1 characters is stored as received and logged escaped", async () => {
  await using backend = await startRefBackend();
  const hostname = "evil\u202Etxt.exe\u0085\u2066x";
  const answer = await backend.enroll({ ...seedPayload(await backend.mint()), hostname });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const [sensor] = await backend.fleet();
  assert.equal(sensor.hostname, hostname, "the store keeps it as received");
  const logged = backend.output();
  assert.ok(logged.includes("hostname=evil\\u202Etxt.exe\\u0085\\u2066x"), logged);
  assert.doesNotMatch(logged, /[\u202E\u0085\u2066]/);
});

Deno.test("display: escapeForDisplay escapes controls, bidi and format characters, and nothing else", () => {
  assert.equal(escapeForDisplay("sensor-01.example"), "sensor-01.example");
  assert.equal(escapeForDisplay("Zürich-東京-ñ"), "Zürich-東京-ñ");
  assert.equal(escapeForDisplay("a\nb\tc\u0000"), "a\\u000Ab\\u0009c\\u0000");
  assert.equal(escapeForDisplay("\u007f\u0080\u009f"), "\\u007F\\u0080\\u009F");
  assert.equal(
    escapeForDisplay("\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C"),
    "\\u202A\\u202B\\u202C\\u202D\\u202E\\u2066\\u2067\\u2068\\u2069\\u200E\\u200F\\u061C",
  );
  assert.equal(escapeForDisplay("\u200B\uFEFF\u2028\u2029"), "\\u200B\\uFEFF\\u2028\\u2029");
  assert.equal(escapeForDisplay("\uD800x\u{E0041}"), "\\uD800x\\u{E0041}");
  // A backslash is doubled, so the text `\u202E` cannot pass for an escaped override.
  assert.equal(escapeForDisplay("\\u202E"), "\\\\u202E");
});
