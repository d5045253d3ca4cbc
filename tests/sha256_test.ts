// lib/sha256.ts against the standards' own vectors (FIPS 180-4's examples, RFC 4231's HMAC test
// cases) and against WebCrypto on random keys and messages: the host binding and the
// Idempotency-Key it computes must be the very bytes any other HMAC-SHA-256 gives.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { hex, hmacSha256, sha256 } from "../lib/sha256.ts";

const text = (value: string) => new TextEncoder().encode(value);
const repeat = (byte: number, length: number) => new Uint8Array(length).fill(byte);

Deno.test("sha256: FIPS 180-4's examples, and messages across the padding's block boundary", async () => {
  assert.equal(
    hex(sha256(text("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    hex(sha256(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    hex(sha256(new Uint8Array())),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  for (const length of [55, 56, 63, 64, 65, 119, 120, 1000]) {
    const message = repeat(0x61, length);
    const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", message));
    assert.equal(hex(sha256(message)), hex(expected), `${length} bytes`);
  }
});

Deno.test("hmacSha256: RFC 4231's test cases 1 to 4, 6 and 7", () => {
  const cases: [Uint8Array, Uint8Array, string][] = [
    [
      repeat(0x0b, 20),
      text("Hi There"),
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ],
    [
      text("Jefe"),
      text("what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      repeat(0xaa, 20),
      repeat(0xdd, 50),
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    ],
    [
      Uint8Array.from({ length: 25 }, (_, i) => i + 1),
      repeat(0xcd, 50),
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    ],
    [
      repeat(0xaa, 131),
      text("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
    [
      repeat(0xaa, 131),
      text(
        "This is a test using a larger than block-size key and a larger than block-size data. " +
          "The key needs to be hashed before being used by the HMAC algorithm.",
      ),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ];
  for (const [i, [key, message, expected]] of cases.entries()) {
    assert.equal(hex(hmacSha256(key, message)), expected, `case ${i}`);
  }
});

Deno.test("hmacSha256: the bytes WebCrypto's HMAC-SHA-256 gives, for any key and message", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 200 }), // WebCrypto refuses an empty HMAC key
      fc.uint8Array({ maxLength: 300 }),
      async (key, message) => {
        const imported = await crypto.subtle.importKey(
          "raw",
          key,
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["sign"],
        );
        const expected = new Uint8Array(await crypto.subtle.sign("HMAC", imported, message));
        assert.equal(hex(hmacSha256(key, message)), hex(expected));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("hmacSha256: an empty key and an empty message, as node:crypto computes them", () => {
  // WebCrypto refuses an empty HMAC key; the agent never has one, but the function must not lie.
  for (const [key, message] of [["", ""], ["", "m"], ["k", ""]]) {
    assert.equal(
      hex(hmacSha256(text(key), text(message))),
      createHmac("sha256", key).update(message).digest("hex"),
    );
  }
});
