// lib/host/snapshot.ts: the host as the backend sees it (facts, sensor IP, interfaces): looked at
// afresh for an enrollment, and kept between heartbeats within the limits of docs/protocol.md
// (counters and flags current each beat; the interface set, classification, hostname and sensorIp
// at most 60 s old, and a change in <proc>/net/dev's names seen at the next beat).
import { mark } from "../timing.ts";
import type { Config } from "../config/mod.ts";
import { type HostFacts, readHostFacts } from "./hostfacts.ts";
import { interfaceHolding } from "./addresses.ts";
import type { Inventory, NetworkInterface } from "./interfaces.ts";
import { detectSensorIp, dialBackend } from "./sensorip.ts";
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

/** The slow facts being looked up: the host's files being read, the backend being dialled. */
interface Refresh {
  readonly facts: Promise<HostFacts>;
  readonly viaBackend?: Promise<string | undefined>;
}

/**
 * Begins the slow lookups: the facts' files are opened on Deno's thread pool and the dial's
 * handshake runs in the kernel, while this thread goes on (with the interface scan).
 */
function beginRefresh(config: Config, signal: AbortSignal | undefined): Refresh {
  const backend = config.sensorIp === undefined ? config.backendUrl : undefined; // else no dial
  return {
    facts: readHostFacts(config),
    viaBackend: backend === undefined ? undefined : dialBackend(backend, signal),
  };
}

/** This beat's snapshot: interfaces read now, the rest looked up again when stale. */
async function look(config: Config, host: KeptHost, signal?: AbortSignal): Promise<HostSnapshot> {
  const now = performance.now();
  // Due by age (and always for a one-off look): begun before the interface scan, so that the
  // backend's round trip and the files' opens are waited for while the scan runs, not after it.
  // The dial's 2 s limit runs during the scan too; the handshake has those 2 s either way, and a
  // scan that long (thousands of interfaces) would leave the interfaces to decide the sensor IP.
  let refresh = now - host.refreshedAt >= MAX_SET_AGE_MS ? beginRefresh(config, signal) : undefined;
  let inventory = host.watcher.read(host.addresses, host.sensorIp);
  mark("interfaces");
  if (refresh === undefined && host.generation !== host.watcher.generation) {
    refresh = beginRefresh(config, signal); // the set changed: its addresses may have too
  }
  if (refresh !== undefined) {
    host.addresses = runtimeAddresses();
    [host.facts, host.sensorIp] = await Promise.all([
      refresh.facts,
      sensorIpFor(config, host.addresses, inventory, refresh.viaBackend, signal),
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
  viaBackend: Promise<string | undefined> | undefined,
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
    viaBackend,
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
