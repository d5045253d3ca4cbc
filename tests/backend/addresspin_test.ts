// tests/backend/addresspin_test.ts: the backend-address drop-in read the way systemd reads
// IPAddressAllow= and IPAddressDeny= (systemd.resource-control(5)), and addresses matched against
// it the way the kernel filter matches them.
import assert from "node:assert/strict";
import {
  parseAddressPin,
  parseIp,
  parsePrefixes,
  pinAllows,
  prefixContains,
} from "../../lib/backend/addresspin.ts";

/** What install.sh --pin-backend-address writes (tests/deploy/install_pin_test.ts checks that it does). */
const WRITTEN = `# Written by install.sh --pin-backend-address: ...
# backend: backend.example
[Service]
IPAddressDeny=any
IPAddressAllow=localhost
IPAddressAllow=192.0.2.10/32 2001:db8::10/128
`;

Deno.test("address pin: IPv4 and IPv6 text, every spelling the kernel treats as one address", () => {
  const cases: [string, number[] | undefined][] = [
    ["192.0.2.10", [192, 0, 2, 10]],
    ["2001:db8::10", [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 0x10]],
    ["2001:0db8:0:0:0:0:0:0010", [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 0x10]],
    ["[2001:db8::10]", [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 0x10]],
    ["::1", [...Array(15).fill(0), 1]],
    ["::", Array(16).fill(0)],
    ["fe80::1%eth0", [0xfe, 0x80, ...Array(13).fill(0), 1]],
    // IPv4-mapped: IPv4 on the wire, filtered as IPv4.
    ["::ffff:192.0.2.10", [192, 0, 2, 10]],
    ["::ffff:c000:20a", [192, 0, 2, 10]],
    ["64:ff9b::192.0.2.10", [0, 0x64, 0xff, 0x9b, ...Array(8).fill(0), 192, 0, 2, 10]],
    ["1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
  ];
  for (const [text, bytes] of cases) assert.deepEqual(parseIp(text), Uint8Array.from(bytes!), text);
  for (
    const bad of [
      "",
      "192.0.2",
      "192.0.2.256",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7::8",
      "g::1",
      ":1::",
      "backend.example",
      "01.2.3.4.5",
    ]
  ) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

Deno.test("address pin: prefixes and systemd's keywords", () => {
  const [v4] = parsePrefixes("192.0.2.0/24")!;
  assert.ok(prefixContains(v4, parseIp("192.0.2.99")!));
  assert.ok(!prefixContains(v4, parseIp("192.0.3.1")!));
  assert.ok(!prefixContains(v4, parseIp("2001:db8::1")!), "families never match each other");
  const [v6] = parsePrefixes("fe80::/10")!;
  assert.ok(prefixContains(v6, parseIp("febf::1")!));
  assert.ok(!prefixContains(v6, parseIp("fec0::1")!));
  const localhost = parsePrefixes("localhost")!;
  for (const address of ["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"]) {
    assert.ok(localhost.some((p) => prefixContains(p, parseIp(address)!)), address);
  }
  assert.equal(parsePrefixes("any")!.length, 2);
  assert.equal(parsePrefixes("link-local")!.length, 2);
  for (
    const bad of ["192.0.2.0/33", "::/129", "bogus/9", "192.0.2.0/-1", "10.0.0.0/8/8", "toString"]
  ) {
    assert.equal(parsePrefixes(bad), undefined, bad);
  }
});

Deno.test("address pin: the drop-in install.sh writes allows the backend, loopback and nothing else", () => {
  const pin = parseAddressPin(WRITTEN);
  assert.equal(pin.host, "backend.example");
  assert.equal(pin.denyAll, true);
  for (const address of ["192.0.2.10", "2001:db8::10", "127.0.0.1", "::1", "::ffff:192.0.2.10"]) {
    assert.ok(pinAllows(pin, address), address);
  }
  for (const address of ["192.0.2.11", "198.51.100.7", "2001:db8::11", "169.254.169.254"]) {
    assert.ok(!pinAllows(pin, address), address);
  }
});

Deno.test("address pin: read as systemd reads it: lists add up, an empty assignment clears", () => {
  const pin = parseAddressPin(`[Service]
IPAddressAllow=192.0.2.10
IPAddressAllow=
IPAddressAllow=198.51.100.7/32   203.0.113.0/24
IPAddressAllow=not-an-address 10.0.0.1
IPAddressDeny=any
[Install]
IPAddressAllow=192.0.2.11
`);
  assert.ok(!pinAllows(pin, "192.0.2.10"), "cleared by the empty assignment");
  assert.ok(pinAllows(pin, "198.51.100.7"));
  assert.ok(pinAllows(pin, "203.0.113.200"));
  assert.ok(pinAllows(pin, "10.0.0.1"), "a bad word is skipped, not the line");
  assert.ok(!pinAllows(pin, "192.0.2.11"), "only [Service] counts");
  assert.equal(pin.host, undefined);
});

Deno.test("address pin: without IPAddressDeny=any for both families, nothing is pinned", () => {
  assert.ok(pinAllows(parseAddressPin("[Service]\nIPAddressAllow=192.0.2.10\n"), "198.51.100.7"));
  const v4Only = parseAddressPin("[Service]\nIPAddressDeny=0.0.0.0/0\nIPAddressAllow=192.0.2.10\n");
  assert.equal(v4Only.denyAll, false);
});
