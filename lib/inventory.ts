// lib/inventory.ts: the host as the backend sees it (facts, sensor IP, interfaces), collected afresh
// for every enrollment and every heartbeat.
import type { Config } from "./config.ts";
import { type HostFacts, readHostFacts } from "./hostfacts.ts";
import { interfaceHolding, type NetworkInterface, readInventory } from "./interfaces.ts";
import { detectSensorIp } from "./sensorip.ts";

/** One look at the host. `degraded` says which data could not be read and how to grant it. */
export interface HostSnapshot {
  readonly facts: HostFacts;
  readonly sensorIp?: string;
  readonly interfaces: NetworkInterface[];
  readonly degraded?: string;
}

/** The addresses the runtime sees, or none when the permission set withholds them. */
export function runtimeAddresses(): Deno.NetworkInterfaceInfo[] {
  try {
    return Deno.networkInterfaces();
  } catch {
    return [];
  }
}

/**
 * Collects the host snapshot of contract sections 3 and 5. Never fails: whatever cannot be read is
 * left out and named in `degraded`.
 */
export async function collectSnapshot(config: Config, signal?: AbortSignal): Promise<HostSnapshot> {
  const addresses = runtimeAddresses();
  const [facts, first] = await Promise.all([
    readHostFacts(config),
    readInventory(config.roots, addresses, undefined),
  ]);
  // In the degraded inventory every isUp is false for want of data, not because links are down.
  const down = new Set(
    first.degraded ? [] : first.interfaces.filter((i) => !i.isUp).map((i) => i.name),
  );
  const sensorIp = await detectSensorIp({
    override: config.sensorIp,
    backendUrl: config.backendUrl,
    procRoot: config.roots.proc,
    addresses,
    downInterfaces: down,
    signal,
  });
  const holder = interfaceHolding(addresses, sensorIp);
  const interfaces = first.interfaces.map((i) => ({ ...i, isManagement: i.name === holder }));
  return { facts, sensorIp, interfaces, degraded: first.degraded };
}
