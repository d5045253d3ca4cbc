// bench/report/results.ts: what one run of the bench measured, as the report reads it: the machine,
// and each section's result (absent when the section was not run).
import type { BackendLoadResult } from "../backend_load.ts";
import type { BeatResult } from "../beat.ts";
import type { FleetResult } from "../fleet.ts";
import type { InventoryResult } from "../inventory.ts";
import type { SectionLoad } from "../load.ts";
import type { PeerResult } from "../peer.ts";
import type { StartupResult } from "../startup.ts";
import type { SteadyResult } from "../steady.ts";

/** The sections of `deno task bench`, in the order they run. */
export const SECTIONS = [
  "fleet",
  "inventory",
  "startup",
  "steady",
  "beat",
  "peer",
  "backend",
] as const;
export type Section = typeof SECTIONS[number];

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly kernel: string;
  readonly deno: string;
  readonly v8: string;
  readonly typescript: string;
  readonly curl: string;
  readonly python: string;
  /** /proc/loadavg's 1-minute figure before and after the run: other work skews every number. */
  readonly loadBefore: string;
  readonly loadAfter: string;
}

export interface BenchResults {
  readonly date: string;
  readonly wallSeconds: number;
  readonly machine: Machine;
  /** What else the machine did while each section ran. */
  readonly loads?: Partial<Record<Section, SectionLoad>>;
  readonly startup?: StartupResult;
  readonly steady?: SteadyResult;
  readonly beat?: BeatResult;
  readonly peer?: PeerResult;
  readonly inventory?: InventoryResult;
  readonly fleet?: { readonly agent: FleetResult; readonly fixed: FleetResult };
  /** The reference backend under load (bench/backend_load.ts). */
  readonly backendLoad?: BackendLoadResult;
  /** Sections that failed, with the reason: reported instead of hidden. */
  readonly failures: Record<string, string>;
  readonly svgPath: string;
}
