// A sensor token's life in the reference backend's store, in process (reference-backend/store/
// credentials.ts, bindings.ts, tokens.ts): which digests open a record, the promotion of a pending
// token at its first use, when a beat is asked to rotate, the hosts noted per token and their
// bounds, the sealing of a pending token apart from the enrollment's, and a record with every
// bound reached still within the size the store's writes budget for it.
import assert from "node:assert/strict";
import { serialize } from "node:v8";
import {
  bindingCount,
  type BindingsSeen,
  MAX_DISTINCT,
  MAX_SEEN,
  mergeSightings,
  noteSightings,
  type Sighting,
} from "../../../reference-backend/store/bindings.ts";
import {
  asksRotation,
  type CredentialHolder,
  opens,
  rotationDue,
  settle,
  tokenDigests,
} from "../../../reference-backend/store/credentials.ts";
import { RECENT_BEATS } from "../../../reference-backend/store/records.ts";
import { randomToken, seal, unseal } from "../../../reference-backend/store/tokens.ts";

const DAY_MS = 86_400_000;
const SEALED = { salt: new Uint8Array(16), iv: new Uint8Array(12), ciphertext: new Uint8Array(59) };

function holder(changes: Partial<CredentialHolder> = {}): CredentialHolder {
  return { tokenDigest: "old", enrolledAt: 1_000, revokedAt: null, ...changes };
}

const pending = { digest: "new", issuedAt: 5_000, binding: null, sealed: SEALED };
const NO_HOST: { readonly bindings?: BindingsSeen | null } = {};

Deno.test("credentials: the token in use and a pending one open the record, nothing once revoked; settle promotes only the pending one", () => {
  const plain = holder();
  assert.deepEqual(tokenDigests(plain), ["old"]);
  const rotating = holder({ pendingToken: pending, rotationRequestedAt: 4_000 });
  assert.ok(opens(rotating, "old") && opens(rotating, "new") && !opens(rotating, "other"));
  assert.deepEqual(tokenDigests(rotating), ["old", "new"]);
  assert.deepEqual(tokenDigests({ ...rotating, revokedAt: 6_000 }), []);
  assert.ok(!opens({ ...rotating, revokedAt: 6_000 }, "new"));
  assert.equal(settle(rotating, "old", 9_000), rotating, "the old token changes nothing");
  const promoted = settle(rotating, "new", 9_000);
  assert.deepEqual(promoted, {
    ...rotating,
    tokenDigest: "new",
    tokenIssuedAt: 5_000,
    lastRotatedAt: 9_000,
    rotationRequestedAt: null,
    pendingToken: null,
    bindings: null,
  });
  assert.ok(!opens(promoted, "old"));
});

Deno.test("credentials: a beat is asked to rotate past the age, on an admin's request, or while a new token waits; only with the token in use", () => {
  const maxAge = 90 * DAY_MS;
  const young = holder({ enrolledAt: 0 });
  assert.ok(!rotationDue(young, maxAge, maxAge), "at the limit: not older");
  assert.ok(rotationDue(young, maxAge + 1, maxAge));
  assert.ok(!rotationDue(young, 100 * maxAge, 0), "0: no age limit");
  assert.ok(!rotationDue(holder({ tokenIssuedAt: maxAge }), maxAge + 1, maxAge), "rotated since");
  assert.ok(rotationDue(holder({ rotationRequestedAt: 5 }), 10, maxAge));
  assert.ok(rotationDue(holder({ pendingToken: pending }), 10, maxAge));
  assert.ok(!rotationDue(holder({ rotationRequestedAt: 5, revokedAt: 6 }), 10, maxAge));
  const asked = holder({ pendingToken: pending });
  assert.ok(asksRotation(asked, "old", 10, maxAge));
  assert.ok(!asksRotation(asked, "new", 10, maxAge), "never the request made with the new token");
});

Deno.test("bindings: the same host again keeps one entry; a second host makes a duplicate since then; bounds hold", () => {
  const a: Sighting = { binding: "a".repeat(64), hostname: "host-a", sensorIp: "10.0.0.1" };
  const b: Sighting = { binding: "b".repeat(64), hostname: "host-b", sensorIp: "10.0.0.2" };
  let sensor = noteSightings(NO_HOST, [a], 1);
  sensor = noteSightings(sensor, [a], 2);
  assert.deepEqual(sensor.bindings, {
    seen: [{ ...a, firstSeenAt: 1, lastSeenAt: 2 }],
    distinct: ["aaaaaaaaaaaa"],
    duplicateSince: null,
  });
  const none = noteSightings(sensor, [], 3);
  assert.equal(none, sensor, "no binding: nothing noted, no new object");
  sensor = noteSightings(sensor, [b], 4);
  assert.equal(sensor.bindings!.duplicateSince, 4);
  assert.deepEqual(sensor.bindings!.seen.map((host) => host.hostname), ["host-b", "host-a"]);
  // A rotation request says no host name: what the host last reported stays.
  sensor = noteSightings(sensor, [{ binding: a.binding, hostname: null, sensorIp: null }], 5);
  assert.deepEqual(sensor.bindings!.seen[0], { ...a, firstSeenAt: 1, lastSeenAt: 5 });
  assert.equal(sensor.bindings!.duplicateSince, 4);
  const many = Array.from({ length: 40 }, (_, i) => ({
    binding: i.toString(16).padEnd(64, "0"),
    hostname: "h".repeat(300),
    sensorIp: "2001:db8::1",
  }));
  const merged = many.reduce<readonly Sighting[]>((all, one) => mergeSightings(all, [one]), []);
  assert.equal(merged.length, MAX_DISTINCT);
  assert.equal(merged[0], many[39], "the latest first");
  const crowded = noteSightings(NO_HOST, merged, 6).bindings!;
  assert.equal(crowded.seen.length, MAX_SEEN);
  assert.equal(crowded.distinct.length, MAX_DISTINCT);
  assert.equal(crowded.seen[0].hostname.length, 64, "a host name is kept cut");
  // Two bindings sharing their first digits are two hosts all the same.
  const twins = noteSightings(NO_HOST, [a, {
    ...b,
    binding: a.binding.slice(0, 12) + "b".repeat(52),
  }], 7);
  assert.equal(bindingCount(twins.bindings), 2);
  assert.equal(twins.bindings!.duplicateSince, 7);
});

Deno.test("tokens: a pending token sealed for rotation opens only with the old token, the sensor id and the rotation's purpose", async () => {
  const old = randomToken();
  const fresh = randomToken();
  const sealed = await seal(fresh, old, "sensor-1", "rotation");
  assert.equal(await unseal(sealed, old, "sensor-1", "rotation"), fresh);
  await assert.rejects(() => unseal(sealed, randomToken(), "sensor-1", "rotation"));
  await assert.rejects(() => unseal(sealed, old, "sensor-2", "rotation"));
  await assert.rejects(() => unseal(sealed, old, "sensor-1", "enrollment"));
  await assert.rejects(() => unseal(sealed, old, "sensor-1"), "the enrollment's is the default");
});

Deno.test("record: with every bound of rotation and bindings reached it serializes within the 8 KiB the store budgets per record", () => {
  // Outside Latin-1, V8 stores a string as UTF-16: two bytes a character, the most text can take.
  const wide = "\u4e2d".repeat(255);
  const sightings = Array.from({ length: MAX_DISTINCT }, (_, i) => ({
    binding: i.toString(16).padEnd(64, "f"),
    hostname: wide,
    sensorIp: "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
  }));
  const sensor = noteSightings(
    {
      id: crypto.randomUUID(),
      label: wide,
      hostname: wide,
      osInfo: wide,
      architecture: wide.slice(0, 64),
      agentVersion: wide.slice(0, 64),
      sensorIp: "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
      sensorPort: 65_535,
      sudoUser: wide.slice(0, 64),
      enrolledAt: Date.now(),
      lastSeenAt: Date.now(),
      heartbeats: Number.MAX_SAFE_INTEGER,
      uptimeSeconds: Number.MAX_SAFE_INTEGER,
      interfaceCount: 100_000,
      interfaceSlices: 14,
      recentCounters: Array.from({ length: RECENT_BEATS }, () => ({
        at: Date.now(),
        bytesSent: Number.MAX_SAFE_INTEGER,
        bytesRecv: Number.MAX_SAFE_INTEGER,
      })),
      revokedAt: null,
      tokenDigest: "f".repeat(64),
      installTokenDigest: "f".repeat(64),
      tokenIssuedAt: Date.now(),
      lastRotatedAt: Date.now(),
      rotationRequestedAt: Date.now(),
      pendingToken: { ...pending, digest: "f".repeat(64), binding: "f".repeat(64) },
      bindings: null,
    },
    sightings,
    Date.now(),
  );
  const bytes = serialize(sensor).length;
  assert.ok(bytes < 8 * 1024, `${bytes} bytes`);
});
