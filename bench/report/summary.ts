// bench/report/summary.ts: the summary at the top of BENCHMARKS.md: issue 24's figures, each against
// the floor program run beside it in the same run, then the older figures against their targets,
// then what else the machine did while each section ran.
import { BEAT_TARGETS } from "../beat.ts";
import type { SectionLoad } from "../load.ts";
import type { BenchResults, Section } from "./results.ts";
import { floorGrowthBytes, steadyGrowthBytes } from "./steady.ts";
import { fixed, mb, ms, table, TARGETS, verdict } from "./text.ts";

const MIB = 1024 * 1024;

/** Issue 24's table: agent, floor, ratio, target, verdict, and the floor program to open. */
export function floorSummary(results: BenchResults): string {
  const rows: string[][] = [];
  const { startup, beat, steady } = results;
  for (const command of startup?.commands ?? []) {
    rows.push([
      command.name === "enroll"
        ? "time-to-enrolled (`sensor-agent.js enroll`, start to exit, token saved)"
        : `\`sensor-agent.js ${command.name}\`, start to exit`,
      `${ms(command.agentMs)} ms`,
      `${ms(command.floorMs)} ms`,
      `${fixed(command.ratio, 2)} *`,
      `<= ${command.target}`,
      verdict(command.ratio, command.target),
      command.floorName,
    ]);
  }
  if (startup) {
    rows.push([
      "the empty Deno program, started the same way (for scale)",
      "",
      `${ms(startup.emptyMs)} ms`,
      "",
      "",
      "",
      "bench/empty.ts",
    ]);
  }
  if (beat) {
    rows.push([
      "whole-process CPU per beat, 1 s interval",
      `${ms(beat.agent.cpuMsPerBeat, 2)} ms`,
      `${ms(beat.floor.cpuMsPerBeat, 2)} ms`,
      fixed(beat.cpuRatio, 2),
      `<= ${BEAT_TARGETS.cpuRatio}`,
      verdict(beat.cpuRatio, BEAT_TARGETS.cpuRatio),
      "bench/beat_floor_full.ts",
    ]);
    rows.push([
      "peak RSS while beating",
      `${fixed(beat.agent.peakRssKiB / 1024, 1)} MiB`,
      `${fixed(beat.floor.peakRssKiB / 1024, 1)} MiB`,
      fixed(beat.peakRssRatio, 2),
      `<= ${BEAT_TARGETS.peakRssRatio}`,
      verdict(beat.peakRssRatio, BEAT_TARGETS.peakRssRatio),
      "bench/beat_floor_full.ts",
    ]);
  }
  if (steady?.floor) {
    const agent = steadyGrowthBytes(steady);
    const floor = floorGrowthBytes(steady.floor);
    rows.push([
      `RSS growth, beat 100 to ${steady.beats.toLocaleString("en-US")}`,
      `${mb(agent)} MiB (${fixed(steady.rssGrowth * 100, 1)} %)`,
      `${mb(floor)} MiB (${fixed(steady.floor.rssGrowth * 100, 1)} %)`,
      "",
      "no worse than the floor's",
      agent <= floor ? "met" : `**missed** by ${fixed((agent - floor) / MIB, 1)} MiB`,
      "bench/steady_floor.ts",
    ]);
  }
  if (rows.length === 0) return "";
  return [
    table(
      ["measure", "agent", "floor", "agent / floor", "target", "verdict", "floor program"],
      rows,
    ),
    "",
    "\\* median of the per-pair ratios; the times are medians of each side. Every floor is started " +
    "as the agent is (the `start` task's V8 flags, the shipped permission set, the same " +
    "environment, deno.json and working directory) on the same real interfaces; the sections " +
    "below give each exact command.",
  ].join("\n");
}

/** The older issues' figures against their own targets. */
export function otherSummary(results: BenchResults): string {
  const rows: string[][] = [];
  const { steady, inventory, fleet } = results;
  if (steady) {
    rows.push([
      `CPU per heartbeat, ${steady.interfaces} interfaces, beats back to back (in-process)`,
      `${ms(steady.cpuMsPerBeat, 2)} ms`,
      `<= ${TARGETS.cpuMsPerBeat} ms`,
      verdict(steady.cpuMsPerBeat, TARGETS.cpuMsPerBeat),
    ]);
  }
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
  return rows.length === 0 ? "" : table(["benchmark", "measured", "target", "verdict"], rows);
}

/** One row a section: its wall time, the load average, and the CPU other processes used. */
export function loadTable(loads: Partial<Record<Section, SectionLoad>>): string {
  const rows = Object.entries(loads).map(([section, load]) => [
    section,
    fixed(load.wallSeconds, 0),
    `${load.loadBefore} / ${load.loadAfter}`,
    fixed(load.otherCpuSeconds, 1),
    fixed((load.otherCpuSeconds / load.wallSeconds) * 100, 0),
    load.busiest.filter((p) => p.cpuSeconds >= 0.5)
      .map((p) => `${p.name} ${fixed(p.cpuSeconds, 1)} s`).join(", ") || "none",
  ]);
  if (rows.length === 0) return "";
  return [
    table([
      "section",
      "wall s",
      "load (1 min) before / after",
      "CPU s of other processes",
      "% of one core",
      "busiest other processes",
    ], rows),
    "",
    "Other processes: every user process that does not descend from the bench, its CPU time and " +
    "that of the children it reaped during the section (from /proc; kernel threads left out). " +
    "More than a few % of a core means something else ran beside the section, and its figures " +
    "are less sure. The load average trails by a minute: a high figure before a section with " +
    "little other CPU is the previous section's, or earlier work's, fading.",
  ].join("\n");
}
