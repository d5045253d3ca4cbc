// What the reference backend keeps (reference-backend/store/; docs/api.md, What the store holds):
// no token or Idempotency-Key in clear in the KV files, an interface list too large for one write
// refused with 413 (never 500), and in process: the sealing of a replayed sensor token, the packing
// of interface lists into KV values, and one write at a time per record with the waiting merged.
import assert from "node:assert/strict";
import { packInterfaces, unpackInterfaces } from "../../../reference-backend/store/interfaces.ts";
import {
  Coalescer,
  digest,
  randomToken,
  seal,
  TooManyWaiting,
  unseal,
} from "../../../reference-backend/store/mod.ts";
import {
  enrollSeed,
  heartbeatBody,
  MACHINE_A,
  seedPayload,
  startRefBackend,
} from "../../support/refbackend.ts";

Deno.test("store: no token and no Idempotency-Key is in clear in the KV files", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend, MACHINE_A); // with a key: the sealed replay record exists
  assert.equal((await backend.beat(sensor.sensorToken)).status, 200);
  const unspent = await backend.mint();
  assert.equal((await backend.stop()).code, 0);
  const secrets = [
    backend.adminToken,
    sensor.installToken,
    sensor.sensorToken,
    unspent,
    sensor.key!,
  ];
  let scanned = 0;
  for await (const entry of Deno.readDir(backend.dataDir)) {
    const bytes = await Deno.readFile(`${backend.dataDir}/${entry.name}`);
    scanned += bytes.length;
    // V8 serialises an ASCII string as Latin-1; scan UTF-16 too in case one is stored two-byte.
    const latin1 = new TextDecoder("latin1").decode(bytes);
    const utf16 = new TextDecoder("utf-16le").decode(bytes) +
      new TextDecoder("utf-16le").decode(bytes.subarray(1));
    for (const secret of secrets) {
      assert.ok(!latin1.includes(secret) && !utf16.includes(secret), `${entry.name} holds one`);
    }
  }
  assert.ok(scanned > 0, "the store was written");
  // What the store does hold: the digests by which it finds tokens.
  const all = new TextDecoder("latin1").decode(
    await Deno.readFile(`${backend.dataDir}/kv.sqlite3`),
  );
  assert.ok(all.includes(digest(sensor.sensorToken)));
});

Deno.test("store: a body within 1 MiB whose interfaces do not fit one store write is 413 naming the limit, never 500; the token is not spent", async () => {
  await using backend = await startRefBackend();
  // 2,043 interfaces named with 64 lone surrogates: each name is 384 bytes in JSON and in the
  // store alike, so the body stays under 1 MiB while the stored list passes 800,000 bytes.
  const interfaces = Array.from({ length: 2043 }, () => ({
    ...(seedPayload("x").interfaces as Record<string, unknown>[])[1],
    name: "\ud800".repeat(64),
  }));
  const installToken = await backend.mint();
  const body = { ...seedPayload(installToken), interfaces };
  assert.ok(JSON.stringify(body).length <= 1024 * 1024);
  const enrolled = await backend.enroll(body);
  assert.equal(enrolled.status, 413, JSON.stringify(enrolled.body));
  assert.match(enrolled.body.error, /2043 interfaces, \d+ bytes stored.*800000 bytes/);
  const sensor = await backend.enroll(seedPayload(installToken));
  assert.equal(sensor.status, 200, "the install token was not spent by the 413");
  const beat = await backend.beat(sensor.body.data.sensorToken, { ...heartbeatBody(), interfaces });
  assert.equal(beat.status, 413);
  assert.doesNotMatch(backend.output(), /status=500|failed:/);
});

Deno.test("tokens: a sealed sensor token opens only with its install token and sensor id", async () => {
  const sensorToken = randomToken();
  const sealed = await seal(sensorToken, "install-a", "sensor-1");
  assert.ok(!new TextDecoder("latin1").decode(sealed.ciphertext).includes(sensorToken));
  assert.equal(await unseal(sealed, "install-a", "sensor-1"), sensorToken);
  await assert.rejects(unseal(sealed, "install-b", "sensor-1"));
  await assert.rejects(unseal(sealed, "install-a", "sensor-2"));
  assert.notEqual(randomToken(), randomToken());
});

Deno.test("interfaces: packing round-trips, each slice within a KV value", () => {
  const list = Array.from({ length: 9000 }, (_, i) => ({
    name: `ens${i}\u00e9"\\`,
    isManagement: i === 1,
    isLoopback: i % 2 === 0,
    isVirtual: i % 3 === 0,
    isWireless: i % 5 === 0,
    isUp: i % 7 !== 0,
    bytesSent: Number.MAX_SAFE_INTEGER - i,
    bytesRecv: i,
  }));
  const chunks = packInterfaces(list);
  assert.ok(chunks.length > 1);
  for (const chunk of chunks) assert.ok(chunk.length <= 60_000);
  assert.deepEqual(unpackInterfaces(chunks), list);
  assert.deepEqual(packInterfaces([]), []);
});

Deno.test("coalesce: writes for one key run one at a time; the waiting ones are merged into one", async () => {
  const writes: number[][] = [];
  const gate = Promise.withResolvers<void>();
  const coalescer = new Coalescer<number[], string>(
    (earlier, later) => [...earlier, ...later],
    async (_key, item) => {
      writes.push(item);
      if (writes.length === 1) await gate.promise;
      return `write ${writes.length}`;
    },
    3,
  );
  const first = coalescer.submit("s", [1]);
  const waiting = [
    coalescer.submit("s", [2]),
    coalescer.submit("s", [3]),
    coalescer.submit("s", [4]),
  ];
  await assert.rejects(coalescer.submit("s", [5]), TooManyWaiting);
  gate.resolve();
  assert.equal(await first, "write 1");
  assert.deepEqual(await Promise.all(waiting), ["write 2", "write 2", "write 2"]);
  assert.deepEqual(writes, [[1], [2, 3, 4]]);
});
