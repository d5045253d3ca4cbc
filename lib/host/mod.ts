// lib/host/mod.ts: the host as the backend sees it (docs/protocol.md, Host facts; Interfaces).
// Owns the host's facts (hostname, OS, architecture, machine id, and the host binding derived from
// that id), the interface inventory (its shape, the kernel's net/dev and route formats, what sysfs
// says of each interface, the procfs and sysfs files opened only where they are what they must be,
// the watcher that keeps them between beats, the address fallback), the sensor IP, the snapshot of
// all of it, and the one warning when the host's roots cannot be read. Never writes, and never
// sends: it only looks.
export { type HostFacts, readHostFacts, readMachineId } from "./hostfacts.ts";
export { HOST_BINDING_LABEL, hostBinding, readHostBinding } from "./binding.ts";
export type { Inventory, NetworkInterface } from "./interfaces.ts";
export { interfaceHolding, inventoryFromAddresses } from "./addresses.ts";
export { parseDefaultRouteInterface, parseFlags, parseNetDev } from "./netdev.ts";
export { InterfaceWatcher, MAX_SET_AGE_MS, readInventory } from "./watcher.ts";
export { collectSnapshot, type HostSnapshot } from "./snapshot.ts";
