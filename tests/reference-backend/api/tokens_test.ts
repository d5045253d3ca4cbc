// Install tokens as the admin API lists and cancels them (reference-backend/api/tokens.ts;
// docs/api.md, GET /api/install-tokens and DELETE /api/install-tokens/{fingerprint}) over real
// HTTP: by fingerprint, never the token; unused, used or expired; a cancelled token enrolls
// nothing; a used one cannot be cancelled.
import assert from "node:assert/strict";
import { fingerprint } from "../../../lib/secrets.ts";
import { assertNoTokens } from "../../support/agent.ts";
import { seedPayload, startRefBackend } from "../../support/refbackend.ts";

Deno.test("install tokens: listed by fingerprint with label, note, expiry and state, never the token", async () => {
  await using backend = await startRefBackend();
  const used = await backend.mint({ label: "rack-1" });
  const unused = await backend.mint({ label: "rack-2", note: "spare", ttlSeconds: 600 });
  const expiring = await backend.mint({ ttlSeconds: 1 });
  const enrolled = await backend.enroll(seedPayload(used));
  assert.equal(enrolled.status, 200);
  await new Promise((done) => setTimeout(done, 1_100));
  const answer = await backend.call("GET", "/api/install-tokens");
  assert.equal(answer.status, 200);
  const text = JSON.stringify(answer.body);
  assertNoTokens(text);
  for (const token of [used, unused, expiring]) assert.ok(!text.includes(token));
  const byFingerprint = new Map(
    answer.body.data.installTokens.map((t: { fingerprint: string }) => [t.fingerprint, t]),
  );
  // deno-lint-ignore no-explicit-any
  const shown = (token: string) => byFingerprint.get(fingerprint(token)) as any;
  assert.equal(answer.body.data.installTokens[0].fingerprint, fingerprint(unused), "unused first");
  assert.deepEqual(
    { ...shown(unused), createdAt: undefined, expiresAt: undefined },
    {
      fingerprint: fingerprint(unused),
      label: "rack-2",
      note: "spare",
      createdAt: undefined,
      expiresAt: undefined,
      state: "unused",
      usedAt: null,
      sensorId: null,
    },
  );
  assert.equal(shown(used).state, "used");
  assert.equal(shown(used).sensorId, enrolled.body.data.sensorId);
  assert.equal(shown(used).label, "rack-1");
  assert.equal(shown(expiring).state, "expired");
  // The sensor carries the token's label until its first beat says its SENSOR_ID.
  const [sensor] = await backend.fleet();
  assert.equal(sensor.label, "rack-1");
  assert.equal((await backend.call("GET", "/api/install-tokens", undefined, null)).status, 401);
});

Deno.test("install tokens: cancelling an unused one makes it enroll nothing; a used one is 409; an unknown one 404", async () => {
  await using backend = await startRefBackend();
  const unused = await backend.mint({ label: "rack-9" });
  const used = await backend.mint();
  assert.equal((await backend.enroll(seedPayload(used))).status, 200);
  const path = (token: string) => `/api/install-tokens/${fingerprint(token)}`;
  assert.equal((await backend.call("DELETE", path(unused), undefined, null)).status, 401);
  const cancelled = await backend.call("DELETE", path(unused));
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  assert.equal(cancelled.body.data.cancelled.fingerprint, fingerprint(unused));
  assert.equal((await backend.enroll(seedPayload(unused))).status, 401, "cancelled: no enrollment");
  assert.equal((await backend.call("DELETE", path(unused))).status, 404, "already gone");
  const refused = await backend.call("DELETE", path(used));
  assert.equal(refused.status, 409);
  assert.match(refused.body.error, /was used: revoke its sensor instead/);
  assert.equal((await backend.call("DELETE", "/api/install-tokens/0123456789ab")).status, 404);
  assert.equal((await backend.call("DELETE", "/api/install-tokens/not-hex")).status, 404);
  const listed = await backend.call("GET", "/api/install-tokens");
  assert.deepEqual(
    listed.body.data.installTokens.map((t: { fingerprint: string }) => t.fingerprint),
    [fingerprint(used)],
  );
  assert.match(
    backend.output(),
    new RegExp(`install token cancelled.*token=${fingerprint(unused)}`),
  );
  assertNoTokens(backend.output());
});
