// bench/report/summary.ts: the summary table at the top of BENCHMARKS.md: each headline figure of
// this run against its target.
import { peerSummary } from "./peer.ts";
import type { BenchResults } from "./results.ts";
import { fixed, ms, table, TARGETS, verdict } from "./text.ts";

/** One row per headline figure of the sections that ran. */
export function summary(results: BenchResults): string {
  const rows: string[][] = [];
  const { enroll, steady, inventory, fleet } = results;
  if (enroll) {
    rows.push([
      "time-to-enrolled / curl floor (median of paired ratios)",
      fixed(enroll.ratio, 2),
      `<= ${TARGETS.enrollRatio}`,
      verdict(enroll.ratio, TARGETS.enrollRatio),
    ]);
  }
  if (steady) {
    rows.push([
      `RSS growth, beat 100 to ${steady.beats.toLocaleString("en-US")}`,
      `${fixed(steady.rssGrowth * 100, 1)} %`,
      `<= ${TARGETS.rssGrowth * 100} %`,
      verdict(steady.rssGrowth, TARGETS.rssGrowth),
    ]);
    rows.push([
      `CPU per heartbeat, ${steady.interfaces} interfaces`,
      `${ms(steady.cpuMsPerBeat, 2)} ms`,
      `<= ${TARGETS.cpuMsPerBeat} ms`,
      verdict(steady.cpuMsPerBeat, TARGETS.cpuMsPerBeat),
    ]);
  }
  if (results.peer) rows.push(...peerSummary(results.peer, TARGETS.wholeProcessRatio, verdict));
  if (inventory) {
    rows.push([
      "inventory cost, 4,096 / 256 interfaces (linear: 16)",
      fixed(inventory.growth4096over256, 1),
      `<= ${TARGETS.inventoryGrowth}`,
      verdict(inventory.growth4096over256, TARGETS.inventoryGrowth),
    ]);
    rows.push([
      "inventory at 4,096 / Python floor",
      fixed(inventory.ratioToFloorAt4096, 2),
      `<= ${TARGETS.inventoryFloorRatio}`,
      verdict(inventory.ratioToFloorAt4096, TARGETS.inventoryFloorRatio),
    ]);
  }
  if (fleet) {
    rows.push([
      "fleet: peak 1-s arrivals after recovery / steady mean",
      fixed(fleet.agent.peakRatio, 2),
      `<= ${TARGETS.fleetPeakRatio}`,
      verdict(fleet.agent.peakRatio, TARGETS.fleetPeakRatio),
    ]);
  }
  if (results.backendLoad) {
    const { ratio } = results.backendLoad;
    rows.push([
      "reference backend heartbeats/s / Deno.serve + JSON + one KV write",
      fixed(ratio, 2),
      `>= ${TARGETS.backendFloorRatio}`,
      ratio >= TARGETS.backendFloorRatio
        ? "met"
        : `**missed** by ${fixed((1 - ratio / TARGETS.backendFloorRatio) * 100, 0)} %`,
    ]);
  }
  return table(["benchmark", "measured", "target", "verdict"], rows);
}
