// lib/host/netdev.ts reads <proc>/net/dev two ways: the byte scanner of every beat (scanNetDev) and
// the string one of a detection (scanNetDevText). Whatever the file holds, they must find the same
// rows, names and counters, or a beat would see other rows than the detection it follows.
import assert from "node:assert/strict";
import fc from "fast-check";
import { scanNetDev, scanNetDevText } from "../../lib/host/netdev.ts";
import { netDevText } from "../support/hosttree.ts";

type Scanner = typeof scanNetDev;

/** Every row `scan` reports in `bytes[0, length)`: its name's bytes and its counters. */
function rows(scan: Scanner, bytes: Uint8Array, length = bytes.length) {
  const found: { name: number[]; recv: number; sent: number }[] = [];
  scan(bytes, length, (start, end, recv, sent) => {
    found.push({ name: [...bytes.subarray(start, end)], recv, sent });
  });
  return found;
}

const encode = (text: string) => new TextEncoder().encode(text);

/** A line of net/dev, well formed or nearly: what a real kernel or a hostile tree could hold. */
const line = fc.oneof(
  // A real row: a name, a colon, 16 counters (from 0 to past 2^53), kernel-style padding.
  fc.record({
    pad: fc.constantFrom("", " ", "    ", "\t"),
    name: fc.array(fc.constantFrom(..."eth0-_.@ \t\r\u0001é\u0080"), { maxLength: 16 })
      .map((chars) => chars.join("")),
    counters: fc.array(fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 10n ** 22n })), {
      minLength: 14,
      maxLength: 18,
    }),
    gaps: fc.array(fc.constantFrom(" ", "  ", "\t", " \t ", ""), { minLength: 18, maxLength: 18 }),
    tail: fc.constantFrom("", " ", "\r", " x", "junk"),
  }).map(({ pad, name, counters, gaps, tail }) =>
    `${pad}${name}:${counters.map((c, i) => `${gaps[i]}${c}`).join("")}${tail}`
  ),
  // Anything made of what matters to the grammar, and a few bytes that do not.
  fc.array(fc.constantFrom(..."0123456789 \t::ab-\r|é\u00ff\u0080"), { maxLength: 60 })
    .map((chars) => chars.join("")),
);

Deno.test("net/dev scanners: the same rows from any text of lines", () => {
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), fc.boolean(), (lines, finalNewline) => {
      const bytes = encode(lines.join("\n") + (finalNewline ? "\n" : ""));
      assert.deepEqual(rows(scanNetDevText, bytes), rows(scanNetDev, bytes));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("net/dev scanners: the same rows from such text with any bytes put in, up to `length`", () => {
  // Bytes written over the text at random places: not UTF-8, control bytes, a colon or newline
  // moved; and a length that cuts the buffer anywhere, as a short read would.
  const put = fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) });
  fc.assert(
    fc.property(fc.array(line, { maxLength: 8 }), fc.array(put, { maxLength: 6 }), fc.nat(), (
      lines,
      puts,
      cut,
    ) => {
      const bytes = encode(lines.join("\n"));
      for (const { at, byte } of puts) if (bytes.length > 0) bytes[at % bytes.length] = byte;
      const length = cut % (bytes.length + 1);
      assert.deepEqual(rows(scanNetDevText, bytes, length), rows(scanNetDev, bytes, length));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("net/dev scanners: a real file's rows, names as bytes and counters exact", () => {
  const text = netDevText([
    { name: "lo", ifindex: 1, up: true, bytesRecv: 1928306, bytesSent: 1928306 },
    { name: "enp130s0f0", ifindex: 2, up: true, bytesRecv: 2 ** 53 - 1, bytesSent: 0 },
    { name: "wlan-é", ifindex: 3, up: false, bytesRecv: 7, bytesSent: 9 },
  ]);
  const found = rows(scanNetDevText, encode(text));
  assert.deepEqual(found, rows(scanNetDev, encode(text)));
  assert.deepEqual(
    found.map((
      { name, recv, sent },
    ) => [new TextDecoder().decode(Uint8Array.from(name)), recv, sent]),
    [
      ["lo", 1928306, 1928306],
      ["enp130s0f0", 2 ** 53 - 1, 0],
      ["wlan-é", 7, 9],
    ],
  );
});

Deno.test("net/dev scanners: hostile lines of blanks are scanned in linear time", () => {
  const blanks = " ".repeat(2_000_000);
  const bytes = encode(`${blanks}x:${" 0".repeat(16)}\nx:${" 0".repeat(15)}${blanks}x\n`);
  const started = performance.now();
  assert.deepEqual(rows(scanNetDevText, bytes), [{ name: [0x78], recv: 0, sent: 0 }]);
  assert.ok(performance.now() - started < 2000, "quadratic in the blanks");
});
