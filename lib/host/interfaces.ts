// lib/host/interfaces.ts: the `interfaces` inventory sent at enrollment and in every heartbeat
// (docs/protocol.md, Interfaces): its shape. The parsers live in netdev.ts, the address logic in
// addresses.ts, the kept set in watcher.ts. Types only: every module of the inventory imports
// them, and they import nothing.

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
