// lib/host/addresses.ts: what the runtime's address list says about interfaces (docs/protocol.md,
// Interfaces): which interface holds sensorIp, and the fallback inventory when procfs and sysfs
// cannot be read. Pure.
import type { NetworkInterface } from "./interfaces.ts";

/** Name of the interface that holds `ip` among Deno.networkInterfaces()-shaped entries, or undefined. */
export function interfaceHolding(
  addresses: readonly Deno.NetworkInterfaceInfo[],
  ip: string | undefined,
): string | undefined {
  if (ip === undefined || ip.trim() === "") return undefined;
  const wanted = canonicalAddress(ip);
  return addresses.find((entry) => canonicalAddress(entry.address) === wanted)?.name;
}

/**
 * interfaceHolding, remembered for the last (addresses, ip) pair: a heartbeat asks with the same
 * list and address beat after beat, and the answer needs every address re-spelled.
 */
export function holderLookup(): typeof interfaceHolding {
  let lastAddresses: readonly Deno.NetworkInterfaceInfo[] | undefined;
  let lastIp: string | undefined;
  let lastHolder: string | undefined;
  return (addresses, ip) => {
    if (addresses !== lastAddresses || ip !== lastIp) {
      lastHolder = interfaceHolding(addresses, ip);
      lastAddresses = addresses;
      lastIp = ip;
    }
    return lastHolder;
  };
}

/** The fallback inventory from addresses alone (section 5): only interfaces with an address, one entry per name in first-seen order, loopback by address (127.0.0.0/8 or ::1), other flags false, counters 0; isManagement for the one holding sensorIp. */
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
