// lib/host/snapshot.ts: the host as the backend sees it (facts, sensor IP, interfaces): looked at
// afresh for an enrollment, and kept between heartbeats within the limits of docs/protocol.md
// (counters and flags current each beat; the interface set, classification, hostname and sensorIp
// at most 60 s old, and a change in <proc>/net/dev's names seen at the next beat).
import { mark } from "../timing.ts";
import type { Config } from "../config/mod.ts";
import { type HostFacts, readHostFacts } from "./hostfacts.ts";
import { interfaceHolding } from "./addresses.ts";
import type { Inventory, NetworkInterface } from "./interfaces.ts";
import { detectSensorIp } from "./sensorip.ts";
import { InterfaceWatcher, MAX_SET_AGE_MS } from "./watcher.ts";

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

/** What a heartbeat loop keeps between beats for one configuration. */
interface KeptHost {
  readonly watcher: InterfaceWatcher;
  facts?: HostFacts;
  sensorIp?: string;
  addresses: Deno.NetworkInterfaceInfo[];
  /** When facts, addresses and sensorIp were last looked up, and the watcher's generation then. */
  refreshedAt: number;
  generation: number;
}

const kept = new WeakMap<Config, KeptHost>();

/**
 * Collects the host snapshot of docs/protocol.md, Host facts; docs/protocol.md, Interfaces. Never
 * fails: whatever cannot be read is left out and named in `degraded`. Without `signal`, a one-off
 * look that holds nothing after it. With one (the heartbeat loop), the interfaces' files stay open
 * and the slow facts are kept for this `config` until `signal` aborts, so each beat reads only what
 * must be current.
 */
export async function collectSnapshot(config: Config, signal?: AbortSignal): Promise<HostSnapshot> {
  if (signal === undefined) {
    using watcher = new InterfaceWatcher(config.roots);
    const host: KeptHost = { watcher, addresses: [], refreshedAt: -Infinity, generation: -1 };
    return await look(config, host);
  }
  let host = kept.get(config);
  if (host === undefined) {
    const created: KeptHost = {
      watcher: new InterfaceWatcher(config.roots),
      addresses: [],
      refreshedAt: -Infinity,
      generation: -1,
    };
    kept.set(config, created);
    const release = () => {
      created.watcher[Symbol.dispose]();
      if (kept.get(config) === created) kept.delete(config);
    };
    if (signal.aborted) release();
    else signal.addEventListener("abort", release, { once: true });
    host = created;
  }
  return await look(config, host, signal);
}

/** This beat's snapshot: interfaces read now, the rest looked up again when stale. */
async function look(config: Config, host: KeptHost, signal?: AbortSignal): Promise<HostSnapshot> {
  const now = performance.now();
  let inventory = host.watcher.read(host.addresses, host.sensorIp);
  mark("interfaces");
  const stale = now - host.refreshedAt >= MAX_SET_AGE_MS ||
    host.generation !== host.watcher.generation;
  if (stale) {
    host.addresses = runtimeAddresses();
    // Side by side: the dial to the backend waits on the network, the facts on files (enrollment's
    // time-to-enrolled pays both once, a few ms each).
    [host.facts, host.sensorIp] = await Promise.all([
      readHostFacts(config),
      sensorIpFor(config, host.addresses, inventory, signal),
    ]);
    host.refreshedAt = now;
    host.generation = host.watcher.generation;
    inventory = markManagement(inventory, host);
  }
  const { interfaces, degraded } = inventory;
  return { facts: host.facts!, sensorIp: host.sensorIp, interfaces, degraded };
}

function sensorIpFor(
  config: Config,
  addresses: Deno.NetworkInterfaceInfo[],
  inventory: Inventory,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  // In the degraded inventory every isUp is false for want of data, not because links are down.
  const down = new Set(
    inventory.degraded ? [] : inventory.interfaces.filter((i) => !i.isUp).map((i) => i.name),
  );
  return detectSensorIp({
    override: config.sensorIp,
    backendUrl: config.backendUrl,
    procRoot: config.roots.proc,
    addresses,
    downInterfaces: down,
    signal,
  });
}

/** The inventory with isManagement from the addresses and sensorIp just looked up. */
function markManagement(inventory: Inventory, host: KeptHost): Inventory {
  // The fallback's entries come from the addresses themselves: build it again from the new ones.
  if (inventory.degraded) return host.watcher.read(host.addresses, host.sensorIp);
  const holder = interfaceHolding(host.addresses, host.sensorIp);
  for (const entry of inventory.interfaces) entry.isManagement = entry.name === holder;
  return inventory;
}
