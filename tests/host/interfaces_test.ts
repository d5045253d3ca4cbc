// tests/host/interfaces_test.ts: the `interfaces` inventory (docs/protocol.md, Interfaces), from
// pure parsers to a real host's procfs and sysfs read under a scoped --allow-read.

import assert from "node:assert/strict";
import { join } from "node:path";
import { interfaceHolding, inventoryFromAddresses } from "../../lib/host/addresses.ts";
import type { NetworkInterface } from "../../lib/host/interfaces.ts";
import { parseDefaultRouteInterface, parseFlags, parseNetDev } from "../../lib/host/netdev.ts";
import { readInventory } from "../../lib/host/watcher.ts";
import { type FakeInterface, netDevText, withHostTree } from "../support/hosttree.ts";
import { SEED_PAYLOAD } from "../support/seed.ts";

const fixtureHost = join(import.meta.dirname!, "..", "fixtures", "host");
const fixtureRoots = { proc: join(fixtureHost, "proc"), sys: join(fixtureHost, "sys") };

/** One Deno.networkInterfaces() entry; only name and address matter here. */
function address(name: string, ip: string): Deno.NetworkInterfaceInfo {
  const family = ip.includes(":") ? "IPv6" : "IPv4";
  return { family, name, address: ip, netmask: "", scopeid: null, cidr: "", mac: "" };
}

/** The fixture host's addresses: sensorIp 192.168.1.100 is on enp130s0f0, as in the seed. */
const fixtureAddresses = [
  address("lo", "127.0.0.1"),
  address("enp130s0f0", "192.168.1.100"),
  address("docker0", "172.17.0.1"),
  address("lo", "::1"),
];

/** Entries by name, for tests about one field. */
function byName(interfaces: NetworkInterface[]): Record<string, NetworkInterface> {
  return Object.fromEntries(interfaces.map((entry) => [entry.name, entry]));
}

const ethernet = (name: string, ifindex: number): FakeInterface => ({
  name,
  ifindex,
  up: true,
  bytesRecv: 0,
  bytesSent: 0,
});

// --- <proc>/net/dev

Deno.test("netdev: receive and transmit bytes from the kernel's format", async () => {
  const counters = parseNetDev(await Deno.readTextFile(join(fixtureRoots.proc, "net", "dev")));
  assert.deepEqual([...counters.keys()], ["lo", "enp130s0f0", "enp130s0f1", "wlp2s0", "docker0"]);
  assert.deepEqual(counters.get("enp130s0f0"), { bytesRecv: 2147483648, bytesSent: 1073741824 });
  assert.deepEqual(counters.get("enp130s0f1"), { bytesRecv: 0, bytesSent: 0 });
});

Deno.test("netdev: counters above 2^32 and up to 2^53 - 1 are exact", () => {
  const text = netDevText([
    { ...ethernet("eth0", 2), bytesRecv: 6442450944, bytesSent: 4294967296 },
    { ...ethernet("eth1", 3), bytesRecv: Number.MAX_SAFE_INTEGER, bytesSent: 2 ** 53 - 2 },
  ]);
  const counters = parseNetDev(text);
  assert.deepEqual(counters.get("eth0"), { bytesRecv: 6442450944, bytesSent: 4294967296 });
  assert.deepEqual(counters.get("eth1"), {
    bytesRecv: Number.MAX_SAFE_INTEGER,
    bytesSent: 2 ** 53 - 2,
  });
});

Deno.test("netdev: a name longer than six characters, with no space after the colon", () => {
  // Older kernels printed "%6s:%8llu", so a long name runs into its first counter.
  const text = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n" +
    "enp130s0f0:2147483648 1 0 0 0 0 0 0 1073741824 1 0 0 0 0 0 0\n";
  assert.deepEqual(parseNetDev(text).get("enp130s0f0"), {
    bytesRecv: 2147483648,
    bytesSent: 1073741824,
  });
});

Deno.test("netdev: header lines and malformed rows are not interfaces", () => {
  const text = netDevText([ethernet("eth0", 2)]) + "broken: 1 2 3\n\n";
  assert.deepEqual([...parseNetDev(text).keys()], ["eth0"]);
});

// --- <sys>/class/net/<if>/flags

Deno.test("flags: IFF_UP and IFF_LOOPBACK bits from the kernel's hex", () => {
  assert.deepEqual(parseFlags("0x1003\n"), { isUp: true, isLoopback: false });
  assert.deepEqual(parseFlags("0x9\n"), { isUp: true, isLoopback: true });
  assert.deepEqual(parseFlags("0x1002\n"), { isUp: false, isLoopback: false });
  assert.deepEqual(parseFlags("0x8\n"), { isUp: false, isLoopback: true });
  assert.deepEqual(parseFlags("0\n"), { isUp: false, isLoopback: false });
});

Deno.test("flags: unparsable text means down and not loopback", () => {
  assert.deepEqual(parseFlags("up\n"), { isUp: false, isLoopback: false });
  assert.deepEqual(parseFlags(""), { isUp: false, isLoopback: false });
});

// --- <proc>/net/route

const routeHeader =
  "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
const route = (iface: string, destination: string, flags: string, metric: number, mask: string) =>
  `${iface}\t${destination}\t0101A8C0\t${flags}\t0\t0\t${metric}\t${mask}\t0\t0\t0\n`;

Deno.test("route: the default route's interface", async () => {
  const text = await Deno.readTextFile(join(fixtureRoots.proc, "net", "route"));
  assert.equal(parseDefaultRouteInterface(text), "enp130s0f0");
});

Deno.test("route: no default route gives undefined", () => {
  assert.equal(parseDefaultRouteInterface(routeHeader), undefined);
  assert.equal(parseDefaultRouteInterface(""), undefined);
  const subnetsOnly = routeHeader + route("eth0", "0001A8C0", "0001", 0, "00FFFFFF") +
    route("eth1", "00000000", "0001", 0, "000000FF"); // 0.0.0.0/8 is not a default route
  assert.equal(parseDefaultRouteInterface(subnetsOnly), undefined);
});

Deno.test("route: the lowest metric wins among default routes", () => {
  const text = routeHeader + route("wlp2s0", "00000000", "0003", 600, "00000000") +
    route("enp130s0f0", "00000000", "0003", 100, "00000000") +
    route("enp130s0f1", "00000000", "0003", 100, "00000000");
  assert.equal(parseDefaultRouteInterface(text), "enp130s0f0");
});

Deno.test("route: a default route without RTF_UP is ignored", () => {
  const text = routeHeader + route("enp130s0f0", "00000000", "0002", 0, "00000000") +
    route("wlp2s0", "00000000", "0003", 600, "00000000");
  assert.equal(parseDefaultRouteInterface(text), "wlp2s0");
});

// --- which interface holds sensorIp

Deno.test("holding: the interface with the IPv4 sensorIp", () => {
  assert.equal(interfaceHolding(fixtureAddresses, "192.168.1.100"), "enp130s0f0");
  assert.equal(interfaceHolding(fixtureAddresses, "172.17.0.1"), "docker0");
});

Deno.test("holding: IPv6 matches in any spelling (case, leading zeros, ::, zone)", () => {
  const addresses = [address("lo", "::1"), address("eth0", "2001:db8::1:0:0:a")];
  for (const ip of ["2001:db8::1:0:0:a", "2001:DB8:0:0:1::A", "2001:0db8:0000::1:0:0:000a"]) {
    assert.equal(interfaceHolding(addresses, ip), "eth0", ip);
  }
  assert.equal(interfaceHolding([address("eth0", "fe80::1")], "fe80::1%eth0"), "eth0");
  assert.equal(interfaceHolding(addresses, "0:0:0:0:0:0:0:1"), "lo");
  assert.equal(interfaceHolding([address("eth0", "::ffff:c000:201")], "::ffff:192.0.2.1"), "eth0");
});

Deno.test("holding: no sensorIp, or one no interface holds, gives undefined", () => {
  assert.equal(interfaceHolding(fixtureAddresses, undefined), undefined);
  assert.equal(interfaceHolding(fixtureAddresses, ""), undefined);
  assert.equal(interfaceHolding(fixtureAddresses, "192.168.1.101"), undefined);
  assert.equal(interfaceHolding(fixtureAddresses, "2001:db8::1"), undefined);
});

// --- the fallback from addresses alone

Deno.test("fallback: one entry per interface with an address, in first-seen order", () => {
  const names = inventoryFromAddresses(fixtureAddresses, undefined).map((entry) => entry.name);
  assert.deepEqual(names, ["lo", "enp130s0f0", "docker0"]);
});

Deno.test("fallback: loopback by address, every other flag false, counters 0", () => {
  const addresses = [
    address("eth0", "10.0.0.2"),
    address("lo", "127.0.0.1"),
    address("lo2", "127.53.0.1"),
    address("lo6", "::1"),
  ];
  const entry = (name: string, isLoopback: boolean): NetworkInterface => ({
    name,
    isManagement: false,
    isLoopback,
    isVirtual: false,
    isWireless: false,
    isUp: false,
    bytesSent: 0,
    bytesRecv: 0,
  });
  assert.deepEqual(inventoryFromAddresses(addresses, undefined), [
    entry("eth0", false),
    entry("lo", true),
    entry("lo2", true),
    entry("lo6", true),
  ]);
});

Deno.test("fallback: isManagement only for the interface holding sensorIp", () => {
  const inventory = inventoryFromAddresses(fixtureAddresses, "192.168.1.100");
  assert.deepEqual(inventory.filter((entry) => entry.isManagement).map((entry) => entry.name), [
    "enp130s0f0",
  ]);
});

// --- readInventory against the committed fixture host

Deno.test("interfaces: the seed's two entries, field for field and in its key order", async () => {
  const { interfaces, degraded } = await readInventory(
    fixtureRoots,
    fixtureAddresses,
    "192.168.1.100",
  );
  assert.equal(degraded, undefined);
  const seed = SEED_PAYLOAD.interfaces;

  const found = interfaces.filter((entry) => entry.name.startsWith("enp130s0"));
  assert.equal(JSON.stringify(found), JSON.stringify(seed)); // byte for byte, so key order too
});

Deno.test("interfaces: ordered by ifindex, not by name", async () => {
  const { interfaces } = await readInventory(fixtureRoots, [], undefined);
  // docker0 (ifindex 10) sorts first by name and before wlp2s0 (9) as text.
  assert.deepEqual(interfaces.map((entry) => entry.name), [
    "lo",
    "enp130s0f0",
    "enp130s0f1",
    "wlp2s0",
    "docker0",
  ]);
});

Deno.test("interfaces: entries of class/net without ifindex are skipped", async () => {
  const { interfaces } = await readInventory(fixtureRoots, [], undefined);
  assert.ok(!interfaces.some((entry) => entry.name === "bonding_masters"));
  assert.equal(interfaces.length, 5);
});

Deno.test("interfaces: isUp and isLoopback from the flags bits", async () => {
  const found = byName((await readInventory(fixtureRoots, [], undefined)).interfaces);
  const flags = Object.fromEntries(
    Object.values(found).map(({ name, isUp, isLoopback }) => [name, { isUp, isLoopback }]),
  );
  assert.deepEqual(flags, {
    lo: { isUp: true, isLoopback: true },
    enp130s0f0: { isUp: true, isLoopback: false },
    enp130s0f1: { isUp: true, isLoopback: false },
    wlp2s0: { isUp: false, isLoopback: false },
    docker0: { isUp: true, isLoopback: false },
  });
});

Deno.test("interfaces: isVirtual from the device path under devices/virtual/", async () => {
  const { interfaces } = await readInventory(fixtureRoots, [], undefined);
  const virtual = interfaces.filter((entry) => entry.isVirtual).map((entry) => entry.name);
  assert.deepEqual(virtual, ["lo", "docker0"]);
});

Deno.test("interfaces: isWireless from a wireless/ directory", async () => {
  const { interfaces } = await readInventory(fixtureRoots, [], undefined);
  const wireless = interfaces.filter((entry) => entry.isWireless).map((entry) => entry.name);
  assert.deepEqual(wireless, ["wlp2s0"]);
});

Deno.test("interfaces: isWireless from a phy80211 link", async () => {
  const ifaces = [
    { ...ethernet("wlan0", 2), wireless: true, wirelessMarker: "phy80211" as const },
    ethernet("eth0", 3),
  ];
  await withHostTree(ifaces, {}, async (roots) => {
    const found = byName((await readInventory(roots, [], undefined)).interfaces);
    assert.equal(found.wlan0.isWireless, true);
    assert.equal(found.eth0.isWireless, false);
  });
});

Deno.test("interfaces: counters from net/dev, exact above 2^32", async () => {
  const found = byName((await readInventory(fixtureRoots, [], undefined)).interfaces);
  assert.deepEqual([found.docker0.bytesRecv, found.docker0.bytesSent], [6442450944, 5000000000]);
  assert.deepEqual([found.wlp2s0.bytesRecv, found.wlp2s0.bytesSent], [52119869, 5260116]);
});

Deno.test("interfaces: isManagement for the interface holding sensorIp, at most one", async () => {
  const held = await readInventory(fixtureRoots, fixtureAddresses, "192.168.1.100");
  const management = held.interfaces.filter((entry) => entry.isManagement);
  assert.deepEqual(management.map((entry) => entry.name), ["enp130s0f0"]);
  const none = await readInventory(fixtureRoots, fixtureAddresses, undefined);
  assert.ok(none.interfaces.every((entry) => !entry.isManagement));
});

// --- readInventory against generated trees

Deno.test("interfaces: an interface missing from net/dev counts 0/0", async () => {
  const ifaces = [{ ...ethernet("eth0", 2), bytesRecv: 5, bytesSent: 7 }, ethernet("eth1", 3)];
  await withHostTree(ifaces, {}, async (roots) => {
    // eth1 appeared in sysfs after net/dev was read: only eth0 has a row.
    await Deno.writeTextFile(join(roots.proc, "net", "dev"), netDevText([ifaces[0]]));
    const found = byName((await readInventory(roots, [], undefined)).interfaces);
    assert.deepEqual([found.eth0.bytesRecv, found.eth0.bytesSent], [5, 7]);
    assert.deepEqual([found.eth1.bytesRecv, found.eth1.bytesSent], [0, 0]);
  });
});

Deno.test("interfaces: hundreds of interfaces, ordered by ifindex whatever net/dev's order", async () => {
  // ifindex 2..501 given in a scrambled order; net/dev rows follow that order.
  const ifaces = Array.from({ length: 500 }, (_, i) => {
    const ifindex = 2 + (i * 7919) % 500;
    return { ...ethernet(`veth${i}`, ifindex), virtual: true, bytesRecv: ifindex, bytesSent: i };
  });
  await withHostTree(ifaces, {}, async (roots) => {
    const { interfaces } = await readInventory(roots, [], undefined);
    assert.equal(interfaces.length, 500);
    assert.deepEqual(interfaces.map((entry) => entry.bytesRecv), ifaces.map((_, i) => 2 + i));
    assert.ok(interfaces.every((entry) => entry.isVirtual && entry.isUp));
  });
});

// --- unreadable roots: the fallback (section 5)

Deno.test("interfaces: roots that do not exist give the address fallback and say so", async () => {
  const roots = { proc: "/nonexistent/ravenxcope/proc", sys: "/nonexistent/ravenxcope/sys" };
  const { interfaces, degraded } = await readInventory(roots, fixtureAddresses, "192.168.1.100");
  assert.deepEqual(interfaces, inventoryFromAddresses(fixtureAddresses, "192.168.1.100"));
  assert.ok(degraded !== undefined);
  assert.ok(!degraded.includes("\n"), "one line");
  assert.ok(degraded.startsWith("interface flags and counters are missing: "), degraded);
  for (
    const part of [
      "/nonexistent/ravenxcope/sys/class/net cannot be read (does not exist)",
      "/nonexistent/ravenxcope/proc/net/dev cannot be read (does not exist)",
      "mount the host's /proc read-only at /nonexistent/ravenxcope/proc and its /sys at " +
      "/nonexistent/ravenxcope/sys",
      "every other flag false and counters 0, which are not measured",
    ]
  ) {
    assert.ok(degraded.includes(part), part);
  }
});

Deno.test("interfaces: net/dev missing alone still falls back, naming only that file", async () => {
  await withHostTree([ethernet("eth0", 2)], {}, async (roots) => {
    await Deno.remove(join(roots.proc, "net", "dev"));
    const { interfaces, degraded } = await readInventory(roots, fixtureAddresses, undefined);
    assert.deepEqual(interfaces, inventoryFromAddresses(fixtureAddresses, undefined));
    const netDev = join(roots.proc, "net", "dev");
    assert.ok(degraded?.includes(`${netDev} cannot be read (does not exist)`), degraded);
    assert.ok(degraded?.includes(`mount the host's /proc read-only at ${roots.proc}`), degraded);
    assert.ok(!degraded?.includes("class/net cannot"), degraded);
  });
});

// --- the real host, under scoped permissions

/** Says why a test proves nothing on this machine; the test then returns early. */
function skip(reason: string): void {
  console.log(`skipped: ${reason}`);
}

/** Runs `command` to completion, returning its exit code and output; nothing is left open. */
async function run(command: string, args: string[], cwd?: string) {
  const output = await new Deno.Command(command, { args, cwd, stdin: "null" }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** A script printing readInventory's result for the roots given as arguments, as JSON. */
const probeScript = `import { readInventory } from ${
  JSON.stringify(new URL("../../lib/host/watcher.ts", import.meta.url).href)
};
const [proc, sys] = Deno.args;
console.log(JSON.stringify(await readInventory({ proc, sys }, Deno.networkInterfaces(), undefined)));
`;

Deno.test("interfaces: /proc and /sys themselves are refused without --allow-all, so it falls back", async () => {
  // The Deno quirk behind HOST_PROC/HOST_SYS: the check is on the path, whatever --allow-read says.
  if (Deno.build.os !== "linux") return skip("needs Linux procfs");
  const dir = await Deno.makeTempDir({ prefix: "ravenxcope-probe-" });
  try {
    await Deno.writeTextFile(join(dir, "probe.ts"), probeScript);
    const permissions = [`--allow-read=/proc,/sys,${dir}`, "--allow-sys=networkInterfaces"];
    const args = ["run", "--no-prompt", "--no-config", ...permissions, "probe.ts", "/proc", "/sys"];
    const probe = await run(Deno.execPath(), args, dir);
    assert.equal(probe.code, 0, probe.stderr);
    const { degraded } = JSON.parse(probe.stdout);
    assert.ok(degraded.includes("/sys/class/net cannot be read (not granted)"), degraded);
    // Advice a user can follow: the mounts deployments make, or the try task; never a grant of
    // /proc, which Deno refuses to anything short of --allow-all.
    assert.ok(degraded.includes("at /host/proc and /host/sys"), degraded);
    assert.ok(degraded.includes("`deno task try`"), degraded);
    assert.ok(!degraded.includes("grant read"), degraded);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("interfaces: the real host's procfs and sysfs, bind-mounted, read with a scoped --allow-read", async () => {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) {
    return skip("bind mounts need root on Linux");
  }
  const unshare = ["--mount", "--propagation", "private"];
  const canUnshare = await run("unshare", [...unshare, "true"]).then(
    (r) => r.code === 0,
    () => false,
  );
  if (!canUnshare) return skip("unshare --mount fails here");
  const dir = await Deno.makeTempDir({ prefix: "ravenxcope-host-" });
  try {
    await Deno.mkdir(join(dir, "proc"));
    await Deno.mkdir(join(dir, "sys"));
    await Deno.writeTextFile(join(dir, "probe.ts"), probeScript);
    // A private mount namespace: the bind mounts vanish with the shell, never seen outside it.
    const script = `mount --bind /proc "$0/proc" && mount --bind /sys "$0/sys" || exit 97
exec "$1" run --no-prompt --no-config --allow-read="$0" --allow-sys=networkInterfaces \\
  "$0/probe.ts" "$0/proc" "$0/sys"`;
    const probe = await run("unshare", [...unshare, "sh", "-c", script, dir, Deno.execPath()]);
    if (probe.code === 97) return skip(`bind mount refused: ${probe.stderr.trim()}`);
    assert.equal(probe.code, 0, probe.stderr);
    const { interfaces, degraded } = JSON.parse(probe.stdout);
    assert.equal(degraded, undefined);
    const lo = { name: "lo", isLoopback: true, isUp: true, isVirtual: true };
    const { name, isLoopback, isUp, isVirtual } = interfaces[0];
    assert.deepEqual({ name, isLoopback, isUp, isVirtual }, lo);
  } finally {
    // Never a recursive remove here: were a mount still there, it would reach into /proc and /sys.
    for (const path of ["probe.ts", "proc", "sys"]) {
      await Deno.remove(join(dir, path)).catch(() => {});
    }
    await Deno.remove(dir);
  }
});
