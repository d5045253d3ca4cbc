// tests/host/sensorip_test.ts: the last fallbacks of sensorIp detection (docs/protocol.md, Host
// facts): the default-route interface's address, else the first up non-loopback IPv4, else a global
// IPv6.

import assert from "node:assert/strict";
import { addressFromInterfaces, isLoopbackAddress } from "../../lib/host/sensorip.ts";

/** One Deno.networkInterfaces() entry; only name, family and address matter here. */
function address(name: string, ip: string): Deno.NetworkInterfaceInfo {
  const family = ip.includes(":") ? "IPv6" : "IPv4";
  return { family, name, address: ip, netmask: "", scopeid: null, cidr: "", mac: "" };
}

// --- addressFromInterfaces

Deno.test("sensorip: the default-route interface wins over interfaces listed before it", () => {
  const addresses = [
    address("docker0", "172.17.0.1"),
    address("eth0", "10.0.0.5"),
    address("eth1", "192.168.1.100"),
  ];
  assert.equal(addressFromInterfaces(addresses, "eth1"), "192.168.1.100");
});

Deno.test("sensorip: without a default route, the first up non-loopback IPv4 is taken", () => {
  const addresses = [
    address("lo", "127.0.0.1"),
    address("eth0", "10.0.0.5"),
    address("eth1", "10.0.0.6"),
  ];
  assert.equal(addressFromInterfaces(addresses, undefined), "10.0.0.5");
});

Deno.test("sensorip: a default-route name with no address falls back to the first IPv4", () => {
  const addresses = [address("eth0", "10.0.0.5")];
  assert.equal(addressFromInterfaces(addresses, "wg0"), "10.0.0.5");
});

Deno.test("sensorip: loopback addresses are never chosen, even on the default-route interface", () => {
  const addresses = [
    address("lo", "127.0.0.1"),
    address("lo", "::1"),
    address("eth0", "10.0.0.5"),
  ];
  assert.equal(addressFromInterfaces(addresses, "lo"), "10.0.0.5");
  assert.equal(
    addressFromInterfaces([address("lo", "127.0.0.1"), address("lo", "::1")], "lo"),
    undefined,
  );
});

Deno.test("sensorip: interfaces known to be down are skipped", () => {
  const addresses = [address("eth0", "10.0.0.5"), address("eth1", "10.0.0.6")];
  assert.equal(addressFromInterfaces(addresses, undefined, new Set(["eth0"])), "10.0.0.6");
  assert.equal(addressFromInterfaces(addresses, undefined, new Set(["eth0", "eth1"])), undefined);
});

Deno.test("sensorip: an IPv4 is preferred to a global IPv6 listed before it", () => {
  const addresses = [address("eth0", "2001:db8::5"), address("eth1", "10.0.0.6")];
  assert.equal(addressFromInterfaces(addresses, undefined), "10.0.0.6");
});

Deno.test("sensorip: on the default-route interface, its IPv4 comes before its IPv6", () => {
  const addresses = [address("eth0", "2001:db8::5"), address("eth0", "10.0.0.5")];
  assert.equal(addressFromInterfaces(addresses, "eth0"), "10.0.0.5");
});

Deno.test("sensorip: the default-route interface's global IPv6 beats another interface's IPv4", () => {
  const addresses = [address("eth0", "10.0.0.5"), address("eth1", "2001:db8::6")];
  assert.equal(addressFromInterfaces(addresses, "eth1"), "2001:db8::6");
});

Deno.test("sensorip: a global IPv6 is taken when there is no IPv4", () => {
  const addresses = [
    address("lo", "::1"),
    address("eth0", "fe80::1"),
    address("eth0", "2001:db8::5"),
  ];
  assert.equal(addressFromInterfaces(addresses, undefined), "2001:db8::5");
});

Deno.test("sensorip: a link-local IPv6 is never chosen", () => {
  for (const ip of ["fe80::1", "FE80::abcd", "fe90::1", "fea0::1", "febf::1"]) {
    assert.equal(addressFromInterfaces([address("eth0", ip)], "eth0"), undefined, ip);
    assert.equal(addressFromInterfaces([address("eth0", ip)], undefined), undefined, ip);
  }
});

Deno.test("sensorip: a unique-local IPv6 (fc00::/7) is not global and is never chosen", () => {
  for (const ip of ["fc00::1", "fd12:3456::1"]) {
    assert.equal(addressFromInterfaces([address("eth0", ip)], "eth0"), undefined, ip);
  }
});

Deno.test("sensorip: no addresses at all gives nothing", () => {
  assert.equal(addressFromInterfaces([], "eth0"), undefined);
});

// --- isLoopbackAddress

Deno.test("loopback: 127.0.0.0/8, ::1 and IPv4-mapped 127.x are loopback", () => {
  for (const ip of ["127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "::ffff:127.0.0.1"]) {
    assert.equal(isLoopbackAddress(ip), true, ip);
  }
});

Deno.test("loopback: other addresses are not loopback", () => {
  for (const ip of ["10.0.0.1", "128.0.0.1", "10.127.0.1", "::2", "::ffff:10.0.0.1", "fe80::1"]) {
    assert.equal(isLoopbackAddress(ip), false, ip);
  }
});
