// bench/report/mod.ts: BENCHMARKS.md from the measured numbers. Pure: text from results. Every
// verdict and every "why" is computed from this run's columns, so the file stays true when the code
// (or the machine) changes and the bench is run again. One module a section, beside this one.
import { backendLoadSection } from "./backend.ts";
import { enrollSection } from "./enroll.ts";
import { fleetSection } from "./fleet.ts";
import { inventorySection } from "./inventory.ts";
import { peerSection } from "./peer.ts";
import type { BenchResults } from "./results.ts";
import { steadySection } from "./steady.ts";
import { summary } from "./summary.ts";
import { fixed, table, TARGETS } from "./text.ts";

export type { BenchResults, Machine } from "./results.ts";

/** BENCHMARKS.md for `results`: the machine, the summary, then each section that ran. */
export function renderReport(results: BenchResults): string {
  const { machine } = results;
  const parts: string[] = [
    "# Benchmarks",
    "",
    "Written by `deno task bench` (bench/main.ts); do not edit by hand. Last run: " +
    `${results.date}, ${fixed(results.wallSeconds, 0)} s wall time for the whole bench.`,
    "",
    "## Machine",
    "",
    table(["", ""], [
      ["CPU", machine.cpuModel],
      ["cores", machine.cores],
      ["kernel", machine.kernel],
      ["Deno", `${machine.deno} (V8 ${machine.v8}, TypeScript ${machine.typescript})`],
      ["curl", machine.curl],
      ["Python", machine.python],
      [
        "load average (1 min) before / after the run",
        `${machine.loadBefore} / ${machine.loadAfter}`,
      ],
    ], true),
    "",
    "## Summary",
    "",
    summary(results),
    "",
  ];
  for (const [section, reason] of Object.entries(results.failures)) {
    parts.push(`**${section} did not complete:** ${reason}`, "");
  }
  if (results.enroll) parts.push(enrollSection(results.enroll));
  if (results.steady) parts.push(steadySection(results.steady, results.inventory));
  if (results.peer) parts.push(peerSection(results.peer, TARGETS.wholeProcessRatio));
  if (results.inventory) parts.push(inventorySection(results.inventory));
  if (results.fleet) parts.push(fleetSection(results.fleet, results.svgPath));
  if (results.backendLoad) parts.push(backendLoadSection(results.backendLoad));
  parts.push(rerunSection());
  return parts.join("\n");
}

function rerunSection(): string {
  return [
    "## How to rerun",
    "",
    "```sh",
    "deno task bench                            # all four, about 2 minutes on 2 cores; rewrites",
    "                                           # this file and docs/fleet-histogram.svg",
    "deno task bench --only fleet --only enroll # some sections, report on stdout only",
    "deno task bench --beats 2000 --pairs 15    # shorter runs, report on stdout only",
    "```",
    "",
    "Needs `curl`, `sh`, `sed`, `python3` and `wrk` on PATH, and nothing but loopback: the bench starts ",
    "its own backend on 127.0.0.1 and writes its fixtures under the system's temporary directory, ",
    "removing them at the end. Only a full run with the default sizes rewrites the files. ",
    "`tests/repo/bench_test.ts` runs a small fleet simulation in the test suite so that this code is ",
    "type-checked and exercised on every `deno task test`.",
    "",
  ].join("\n");
}
