// tests/support/hosttree.ts: writes a fake host procfs/sysfs that looks like the kernel's, so tests
// and benchmarks can point HOST_PROC/HOST_SYS at it (docs/protocol.md, Interfaces).

import { join } from "node:path";

/** One interface of the fake host. */
export interface FakeInterface {
  name: string;
  ifindex: number;
  up: boolean;
  loopback?: boolean;
  virtual?: boolean; // device under sys/devices/virtual/net instead of a PCI function
  wireless?: boolean;
  wirelessMarker?: "wireless" | "phy80211"; // which sysfs entry marks it wireless; default wireless/
  bytesRecv: number;
  bytesSent: number;
}

const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_MULTICAST = 0x1000;

/** Writes <dir>/proc/net/dev, <dir>/proc/net/route (optional default route iface) and <dir>/sys/class/net/<if> as symlinks into <dir>/sys/devices/{virtual/net|pci0000:00/0000:00:1f.6/net}/<if> with ifindex, flags (hex as the kernel writes it, e.g. 0x1003), and wireless/ or phy80211 where asked. Returns {proc, sys}. */
export async function writeHostTree(
  dir: string,
  ifaces: FakeInterface[],
  opts: { defaultRoute?: string } = {},
): Promise<{ proc: string; sys: string }> {
  const proc = join(dir, "proc");
  const sys = join(dir, "sys");
  await Deno.mkdir(join(proc, "net"), { recursive: true });
  await Deno.mkdir(join(sys, "class", "net"), { recursive: true });
  await Deno.writeTextFile(join(proc, "net", "dev"), netDevText(ifaces));
  await Deno.writeTextFile(join(proc, "net", "route"), routeText(opts.defaultRoute));
  // A plain file beside the interface links, as the bonding driver adds: not an interface.
  await Deno.writeTextFile(join(sys, "class", "net", "bonding_masters"), "\n");
  // All interfaces at once: a benchmark host has thousands.
  await Promise.all(ifaces.map((iface) => writeInterface(sys, iface)));
  return { proc, sys };
}

/**
 * Writes one interface under the fake `sys`: its device directory (ifindex, flags, and wireless/ or
 * phy80211 where asked) and its <sys>/class/net link, relative as the kernel's are.
 */
export async function writeInterface(sys: string, iface: FakeInterface): Promise<void> {
  const bus = iface.virtual ? "virtual" : join("pci0000:00", "0000:00:1f.6");
  const device = join(sys, "devices", bus, "net", iface.name);
  await Deno.mkdir(device, { recursive: true });
  await Deno.writeTextFile(join(device, "ifindex"), `${iface.ifindex}\n`);
  await Deno.writeTextFile(join(device, "flags"), `${flagsText(iface)}\n`);
  if (iface.wireless && iface.wirelessMarker === "phy80211") {
    // The kernel links phy80211 to the wiphy beside the net device: ../../ieee80211/phyN.
    await Deno.mkdir(join(device, "..", "..", "ieee80211", "phy0"), { recursive: true });
    await Deno.symlink(join("..", "..", "ieee80211", "phy0"), join(device, "phy80211"));
  } else if (iface.wireless) {
    await Deno.mkdir(join(device, "wireless"));
  }
  // Relative, like the kernel's links: ../../devices/virtual/net/lo.
  await Deno.symlink(
    join("..", "..", "devices", bus, "net", iface.name),
    join(sys, "class", "net", iface.name),
  );
}

/** The kernel's <proc>/net/dev (net/core/net-procfs.c): two header lines, then one row per device. */
export function netDevText(ifaces: readonly FakeInterface[]): string {
  const header = "Inter-|   Receive                                                |  Transmit\n" +
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs " +
    "drop fifo colls carrier compressed\n";
  // Widths of the kernel's "%6s: %7llu %7llu %4llu %4llu %4llu %5llu %10llu %9llu %8llu %7llu
  // %4llu %4llu %4llu %5llu %7llu %10llu\n".
  const widths = [7, 7, 4, 4, 4, 5, 10, 9, 8, 7, 4, 4, 4, 5, 7, 10];
  const rows = ifaces.map((iface) => {
    const packets = (bytes: number) => Math.floor(bytes / 1500);
    const values = [iface.bytesRecv, packets(iface.bytesRecv), 0, 0, 0, 0, 0, 0];
    values.push(iface.bytesSent, packets(iface.bytesSent), 0, 0, 0, 0, 0, 0);
    const columns = values.map((value, i) => ` ${String(value).padStart(widths[i])}`).join("");
    return `${iface.name.padStart(6)}:${columns}\n`;
  });
  return header + rows.join("");
}

/** The kernel's <proc>/net/route: a header and rows padded to 127 characters, addresses in hex. */
function routeText(defaultRoute: string | undefined): string {
  const line = (text: string) => `${text.padEnd(127)}\n`;
  let text = line(
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
  );
  if (defaultRoute !== undefined) {
    // default via 192.168.1.1 (RTF_UP|RTF_GATEWAY), and the link's own 192.168.1.0/24 (RTF_UP).
    text += line(`${defaultRoute}\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0`);
    text += line(`${defaultRoute}\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0`);
  }
  return text;
}

/** <sys>/class/net/<if>/flags as the kernel prints it ("%#x"): 0x1003 for an up Ethernet. */
function flagsText(iface: FakeInterface): string {
  const flags = (iface.up ? IFF_UP : 0) |
    (iface.loopback ? IFF_LOOPBACK : IFF_BROADCAST | IFF_MULTICAST);
  return flags === 0 ? "0" : `0x${flags.toString(16)}`;
}

/**
 * What a permission set grants to read a host tree's roots: the files under them, as the shipped
 * set grants /host/proc's and /host/sys's. A root inside a directory granted whole is refused
 * (lib/config/hostroots.ts), so a test grants these, never the tree's directory.
 */
export function rootReads(roots: { proc: string; sys: string }): string[] {
  return [
    join(roots.proc, "net", "dev"),
    join(roots.proc, "net", "route"),
    join(roots.sys, "class", "net"),
  ];
}

/** Writes a host tree in a fresh temporary directory, runs `use` on its roots, removes it after. */
export async function withHostTree<T>(
  ifaces: FakeInterface[],
  opts: { defaultRoute?: string },
  use: (roots: { proc: string; sys: string }, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "ravenxcope-host-" });
  try {
    return await use(await writeHostTree(dir, ifaces, opts), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
