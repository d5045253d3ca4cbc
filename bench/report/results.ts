// bench/report/results.ts: what one run of the bench measured, as the report reads it: the machine,
// and each section's result (absent when the section was not run).
import type { BackendLoadResult } from "../backend_load.ts";
import type { EnrollResult } from "../enroll.ts";
import type { FleetResult } from "../fleet.ts";
import type { InventoryResult } from "../inventory.ts";
import type { PeerResult } from "../peer.ts";
import type { SteadyResult } from "../steady.ts";

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
  readonly enroll?: EnrollResult;
  readonly steady?: SteadyResult;
  readonly peer?: PeerResult;
  readonly inventory?: InventoryResult;
  readonly fleet?: { readonly agent: FleetResult; readonly fixed: FleetResult };
  /** The reference backend under load (bench/backend_load.ts). */
  readonly backendLoad?: BackendLoadResult;
  /** Sections that failed, with the reason: reported instead of hidden. */
  readonly failures: Record<string, string>;
  readonly svgPath: string;
}
