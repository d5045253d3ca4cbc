// lib/host/mod.ts: the host as the backend sees it (docs/protocol.md, Host facts; Interfaces).
// Owns the host's facts (hostname, OS, architecture, machine id, and the host binding derived from
// that id), the interface inventory (its shape, the kernel's net/dev and route formats, what sysfs
// says of each interface, the procfs and sysfs files opened only where they are what they must be,
// the watcher that keeps them between beats, the address fallback), the sensor IP, the snapshot of
// all of it, and the one warning when the host's roots cannot be read. Never writes, and never
// sends: it only looks.
import type { Config } from "../config/mod.ts";
import type { HostSnapshot } from "./snapshot.ts";

export { type HostFacts, readHostFacts, readMachineId } from "./hostfacts.ts";
export { HOST_BINDING_LABEL, hostBinding, readHostBinding } from "./binding.ts";
export type { Inventory, NetworkInterface } from "./interfaces.ts";
export { interfaceHolding, inventoryFromAddresses } from "./addresses.ts";
export { parseDefaultRouteInterface, parseFlags, parseNetDev } from "./netdev.ts";
export type { HostSnapshot } from "./snapshot.ts";

// The interface reading (the watcher, detection, sysfs, the sensor IP) is a dozen modules that
// `status` never uses: it reads only the machine id. They load with the first snapshot.
let snapshotModule: typeof import("./snapshot.ts") | undefined;

/**
 * The host snapshot of docs/protocol.md (snapshot.ts): collectSnapshot there, its module loaded by
 * the first call and kept, so that a beat adds no wait for it.
 */
export async function collectSnapshot(config: Config, signal?: AbortSignal): Promise<HostSnapshot> {
  snapshotModule ??= await import("./snapshot.ts");
  return snapshotModule.collectSnapshot(config, signal);
}

/**
 * The interface watcher and readInventory (watcher.ts), for benchmarks and probes; loaded when
 * asked for.
 */
export function loadWatcher(): Promise<typeof import("./watcher.ts")> {
  return import("./watcher.ts");
}
