// bench/report/text.ts: what every section of BENCHMARKS.md shares: the targets, the verdict on a
// figure, number formats and Markdown tables. Pure.
import { fixed } from "../support.ts";

export { fixed };

/**
 * The targets of the older issues behind the bench, by figure. Issue 24's, against floors run in
 * the same run, are beside their measures (bench/startup.ts, bench/beat.ts).
 */
export const TARGETS = {
  cpuMsPerBeat: 1.0,
  inventoryGrowth: 20,
  inventoryFloorRatio: 2.0,
  fleetPeakRatio: 2.0,
  backendFloorRatio: 0.8,
} as const;

/** `met` when value <= target (or < for strict), else how far over, in percent. */
export function verdict(value: number, target: number, strict = false): string {
  const met = strict ? value < target : value <= target;
  return met ? "met" : `**missed** by ${fixed((value / target - 1) * 100, 0)} %`;
}

/** Bytes as MiB, one decimal. */
export const mb = (bytes: number) => fixed(bytes / 1024 / 1024, 1);
/** Milliseconds, one decimal unless `digits` says otherwise. */
export const ms = (value: number, digits = 1) => fixed(value, digits);

/** A Markdown table; columns after the first are numbers, right-aligned, unless `textOnly`. */
export function table(header: string[], rows: (string | number)[][], textOnly = false): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [
    line(header),
    line(header.map((_, i) => (i === 0 || textOnly ? "---" : "---:"))),
    ...rows.map(line),
  ].join("\n");
}

/**
 * A folded block of command lines that share one set of flags, shown once as $FLAGS: what a reader
 * runs to repeat a measurement.
 */
export function commandDetails(commands: string[], flags: string): string {
  return [
    "<details><summary>The exact commands (scratch paths as &lt;scratch&gt;)</summary>",
    "",
    "Run from the project's directory, with HOST_PROC, HOST_SYS and HOST_*_FILE set to the " +
    "stand-ins, each env file written afresh before its run:",
    "",
    "```sh",
    ...commands,
    "```",
    "",
    "where $FLAGS, the same for every program, is:",
    "",
    "```sh",
    flags,
    "```",
    "",
    "</details>",
  ].join("\n");
}
