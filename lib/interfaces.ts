// lib/interfaces.ts: the `interfaces` inventory sent at enrollment and in every heartbeat
// (contract section 5). The parsers are pure; readInventory is the only I/O, against the host's
// procfs and sysfs under roots, because Deno refuses any path under /proc and /sys itself.

import { join, resolve } from "node:path";

/** One entry of the enrollment/heartbeat `interfaces` array, field order as in the seed example. */
export interface NetworkInterface {
  name: string;
  isManagement: boolean;
  isLoopback: boolean;
  isVirtual: boolean;
  isWireless: boolean;
  isUp: boolean;
  bytesSent: number;
  bytesRecv: number;
}

/** Where the host's procfs and sysfs are read (contract section 5). */
export interface HostRoots {
  readonly proc: string;
  readonly sys: string;
}

/** The inventory and, when the roots could not be read, one sentence saying what is missing and how to grant it. */
export interface Inventory {
  readonly interfaces: NetworkInterface[];
  readonly degraded?: string;
}

const IFF_UP = 0x1; // include/uapi/linux/if.h
const IFF_LOOPBACK = 0x8;
const RTF_UP = 0x1; // include/uapi/linux/route.h

/** Byte counters per interface from the text of <proc>/net/dev. */
export function parseNetDev(text: string): Map<string, { bytesRecv: number; bytesSent: number }> {
  const counters = new Map<string, { bytesRecv: number; bytesSent: number }>();
  for (const line of text.split("\n")) {
    // The two header lines hold no colon, and an interface name cannot (the kernel's dev_valid_name).
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    // 8 receive columns then 8 transmit columns, bytes first in each. Number() of the decimal text
    // is exact below 2^53 (section 5); a real counter will not pass that in the agent's lifetime.
    const columns = line.slice(colon + 1).trim().split(/\s+/);
    if (columns.length < 16 || !/^\d+$/.test(columns[0]) || !/^\d+$/.test(columns[8])) continue;
    counters.set(line.slice(0, colon).trim(), {
      bytesRecv: Number(columns[0]),
      bytesSent: Number(columns[8]),
    });
  }
  return counters;
}

/** IFF_UP (0x1) and IFF_LOOPBACK (0x8) from the text of <sys>/class/net/<if>/flags ("0x1003\n"). */
export function parseFlags(text: string): { isUp: boolean; isLoopback: boolean } {
  const flags = Number(text.trim()); // the kernel writes "%#x"; Number() reads the 0x prefix
  if (!Number.isInteger(flags)) return { isUp: false, isLoopback: false };
  return { isUp: (flags & IFF_UP) !== 0, isLoopback: (flags & IFF_LOOPBACK) !== 0 };
}

/** The interface of the default IPv4 route in the text of <proc>/net/route (Destination 00000000, lowest Metric among them, RTF_UP set), or undefined. */
export function parseDefaultRouteInterface(text: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of text.split("\n").slice(1)) { // the first line is the header
    const [iface, destination, , flags, , , metric, mask] = line.trim().split(/\s+/);
    // Mask 00000000 too: destination 0.0.0.0 with another mask (0.0.0.0/8) is not a default route.
    if (destination !== "00000000" || mask !== "00000000") continue;
    if ((Number.parseInt(flags, 16) & RTF_UP) === 0) continue;
    const routeMetric = Number(metric);
    if (!Number.isInteger(routeMetric)) continue;
    if (best === undefined || routeMetric < best.metric) best = { iface, metric: routeMetric };
  }
  return best?.iface;
}

/** Name of the interface that holds `ip` among Deno.networkInterfaces()-shaped entries, or undefined. */
export function interfaceHolding(
  addresses: readonly Deno.NetworkInterfaceInfo[],
  ip: string | undefined,
): string | undefined {
  if (ip === undefined || ip.trim() === "") return undefined;
  const wanted = canonicalAddress(ip);
  return addresses.find((entry) => canonicalAddress(entry.address) === wanted)?.name;
}

/** The fallback inventory from addresses alone (section 5): only interfaces with an address, one entry per name in first-seen order, loopback by address (127.0.0.0/8 or ::1), other flags false, counters 0; isManagement for the one holding sensorIp. Pure. */
export function inventoryFromAddresses(
  addresses: readonly Deno.NetworkInterfaceInfo[],
  sensorIp: string | undefined,
): NetworkInterface[] {
  const management = interfaceHolding(addresses, sensorIp);
  const byName = new Map<string, NetworkInterface>();
  for (const { name, address } of addresses) {
    const entry = byName.get(name) ?? addressOnlyEntry(name, name === management);
    const canonical = canonicalAddress(address);
    if (canonical.startsWith("127.") || canonical === "0:0:0:0:0:0:0:1") entry.isLoopback = true;
    byName.set(name, entry);
  }
  return [...byName.values()];
}

/**
 * Reads the inventory from the roots; falls back to inventoryFromAddresses with `degraded` set when
 * <sys>/class/net or <proc>/net/dev cannot be read. Never throws for a missing or unreadable file.
 * Synchronous on purpose (see below); on a host of thousands of interfaces this holds the event
 * loop for a fraction of a second, once per beat.
 */
export function readInventory(
  roots: HostRoots,
  addresses: readonly Deno.NetworkInterfaceInfo[],
  sensorIp: string | undefined,
): Inventory {
  const classNet = join(roots.sys, "class", "net");
  const netDev = join(roots.proc, "net", "dev");
  const failures = new Map<string, string>(); // path -> error kind, e.g. NotCapable
  const noting = (path: string) => (error: unknown) => {
    failures.set(path, error instanceof Error ? error.name : String(error));
    return undefined;
  };
  // Synchronous reads throughout: sysfs and procfs answer from memory, and an async call costs
  // several times the read itself (a hop to the runtime's thread pool and back), per file.
  const names = attempt(() => directoryNames(classNet), noting(classNet));
  const netDevText = attempt(() => Deno.readTextFileSync(netDev), noting(netDev));
  if (names === undefined || netDevText === undefined) {
    // Section 5: enroll anyway with what the addresses give, and say once what to grant. The
    // sentence names paths and error kinds only, never file contents.
    const unreadable = [classNet, netDev].filter((path) => failures.has(path))
      .map((path) => `${path} (${failures.get(path)})`).join(" and ");
    const degraded = `interface flags and counters are missing because ${unreadable}` +
      ` cannot be read with HOST_SYS=${roots.sys}, HOST_PROC=${roots.proc}; mount the host's` +
      ` /proc and /sys read-only at /host/proc and /host/sys, or set HOST_PROC and HOST_SYS to` +
      ` readable roots`;
    return { interfaces: inventoryFromAddresses(addresses, sensorIp), degraded };
  }
  const counters = parseNetDev(netDevText);
  const management = interfaceHolding(addresses, sensorIp);
  // One interface after the other: issuing every interface's reads at once (thousands on a large
  // host) queued them all on the thread pool and cost grew faster than the interface count.
  const found: { ifindex: number; iface: NetworkInterface }[] = [];
  for (const name of names) {
    const entry = readSysfsInterface(classNet, name, name === management, counters);
    if (entry !== undefined) found.push(entry);
  }
  return {
    interfaces: found
      .sort((a, b) => a.ifindex - b.ifindex || (a.iface.name < b.iface.name ? -1 : 1))
      .map((entry) => entry.iface),
  };
}

/** One entry of class/net with its ifindex, or undefined when it is not an interface. */
function readSysfsInterface(
  classNet: string,
  name: string,
  isManagement: boolean,
  counters: ReturnType<typeof parseNetDev>,
): { ifindex: number; iface: NetworkInterface } | undefined {
  const link = join(classNet, name);
  const devicePath = attempt(() => Deno.readLinkSync(link)) ?? ""; // ../../devices/virtual/net/lo
  // Read through the device's own directory: under a scoped --allow-read Deno walks every
  // component of every path it is given (its guard against links into /proc and /sys), and going
  // through the class/net link makes that walk twice as long.
  const dir = devicePath === "" ? link : resolve(classNet, devicePath);
  const ifindexText = attempt(() => Deno.readTextFileSync(join(dir, "ifindex")));
  // No ifindex: not an interface (bonding_masters), or one removed while we were reading.
  const ifindex = Number(ifindexText?.trim());
  if (ifindexText === undefined || !Number.isInteger(ifindex)) return undefined;
  const flagsText = attempt(() => Deno.readTextFileSync(join(dir, "flags"))) ?? "";
  // One listing instead of two lookups of names that are mostly missing (a failed lookup costs
  // twice a listing: Deno builds the error it throws); phy80211 is listed as itself, not followed.
  let isWireless = false;
  for (const entry of attempt(() => [...Deno.readDirSync(dir)]) ?? []) {
    if (entry.name === "wireless" || entry.name === "phy80211") isWireless = true;
  }
  const { isUp, isLoopback } = parseFlags(flagsText);
  const iface: NetworkInterface = {
    name,
    isManagement,
    isLoopback,
    isVirtual: devicePath.includes("devices/virtual/"), // section 5: no bus device behind it
    isWireless,
    isUp,
    // An interface missing from net/dev (created between the two reads) counts 0/0.
    bytesSent: counters.get(name)?.bytesSent ?? 0,
    bytesRecv: counters.get(name)?.bytesRecv ?? 0,
  };
  return { ifindex, iface };
}

/** The value of `read`, or undefined when it throws (missing, removed meanwhile, not allowed). */
function attempt<T>(read: () => T, onError?: (error: unknown) => void): T | undefined {
  try {
    return read();
  } catch (error) {
    onError?.(error);
    return undefined;
  }
}

/** The names in a directory; throws when it cannot be listed. */
function directoryNames(dir: string): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(dir)) names.push(entry.name);
  return names;
}

/** An entry with every flag false and counters 0, keys in the seed's order. */
function addressOnlyEntry(name: string, isManagement: boolean): NetworkInterface {
  const flags = { isLoopback: false, isVirtual: false, isWireless: false, isUp: false };
  return { name, isManagement, ...flags, bytesSent: 0, bytesRecv: 0 };
}

/**
 * One spelling per address, so an operator's SENSOR_IP `2001:DB8:0::1` or `fe80::1%eth0` matches
 * the `2001:db8::1` / `fe80::1` that Deno.networkInterfaces() reports. IPv6 becomes eight hextets.
 */
function canonicalAddress(ip: string): string {
  let address = ip.trim().toLowerCase().replace(/%.*$/, "");
  if (!address.includes(":")) return address;
  const ipv4Tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address); // ::ffff:192.0.2.1
  if (ipv4Tail) {
    const [a, b, c, d] = ipv4Tail.slice(1).map(Number);
    address = `${address.slice(0, ipv4Tail.index)}${((a << 8) | b).toString(16)}:` +
      ((c << 8) | d).toString(16);
  }
  const [head, tail] = address.split("::");
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined
    ? []
    : Array(Math.max(0, 8 - headParts.length - tailParts.length)).fill("0");
  return [...headParts, ...zeros, ...tailParts].map((part) => parseInt(part, 16).toString(16))
    .join(":");
}
