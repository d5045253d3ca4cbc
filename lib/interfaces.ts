// lib/interfaces.ts: the `interfaces` inventory sent at enrollment and in every heartbeat
// (docs/protocol.md, Interfaces): its shape, and readInventory, a one-off look through the watcher.
// The parsers live in netdev.ts, the address logic in addresses.ts, the kept set in watcher.ts.

import type { HostRoots } from "./config/mod.ts";
import { InterfaceWatcher } from "./watcher.ts";

export { interfaceHolding, inventoryFromAddresses } from "./addresses.ts";
export { parseDefaultRouteInterface, parseFlags, parseNetDev } from "./netdev.ts";

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

/** The inventory and, when the roots could not be read, one sentence saying what is missing and how to grant it. */
export interface Inventory {
  readonly interfaces: NetworkInterface[];
  readonly degraded?: string;
}

/**
 * Reads the inventory from the roots once, holding no file afterwards; falls back to
 * inventoryFromAddresses with `degraded` set when <sys>/class/net or <proc>/net/dev cannot be
 * read. Never throws for a missing or unreadable file. Synchronous on purpose: sysfs and procfs
 * answer from memory, and an async call costs several times the read itself, per file.
 */
export function readInventory(
  roots: HostRoots,
  addresses: readonly Deno.NetworkInterfaceInfo[],
  sensorIp: string | undefined,
): Inventory {
  using watcher = new InterfaceWatcher(roots);
  return watcher.read(addresses, sensorIp);
}
