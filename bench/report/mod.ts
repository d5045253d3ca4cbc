// bench/report/mod.ts: BENCHMARKS.md from the measured numbers. Pure: text from results. Every
// verdict and every "why" is computed from this run's columns, so the file stays true when the code
// (or the machine) changes and the bench is run again. One module a section, beside this one.
import { backendLoadSection } from "./backend.ts";
import { beatSection } from "./beat.ts";
import { fleetSection } from "./fleet.ts";
import { inventorySection } from "./inventory.ts";
import { peerSection } from "./peer.ts";
import type { BenchResults } from "./results.ts";
import { startupSection } from "./startup.ts";
import { steadySection } from "./steady.ts";
import { floorSummary, loadTable, otherSummary } from "./summary.ts";
import { fixed, table } from "./text.ts";
import { SECTIONS } from "./results.ts";

export { SECTIONS };
export type { BenchResults, Machine, Section } from "./results.ts";

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
  ];
  const against = floorSummary(results);
  if (against) {
    parts.push(
      "## Summary: the agent against floors run beside it (issue 24)",
      "",
      against,
      "",
    );
  }
  const others = otherSummary(results);
  if (others) parts.push("## Summary: other figures", "", others, "");
  const loads = loadTable(results.loads ?? {});
  if (loads) parts.push("## What else the machine did, section by section", "", loads, "");
  for (const [section, reason] of Object.entries(results.failures)) {
    parts.push(`**${section} did not complete:** ${reason}`, "");
  }
  if (results.startup) parts.push(startupSection(results.startup));
  if (results.beat) parts.push(beatSection(results.beat));
  if (results.steady) parts.push(steadySection(results.steady, results.inventory));
  if (results.peer) parts.push(peerSection(results.peer));
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
    "deno task bench                               # every section, about 5 minutes on 2 cores;",
    "                                              # rewrites this file and docs/fleet-histogram.svg",
    "deno task bench --only startup --only beat    # some sections, report on stdout only",
    "deno task bench --pairs 21 --beat-seconds 30  # shorter runs, report on stdout only",
    "```",
    "",
    "Sections: " + SECTIONS.map((s) => `\`${s}\``).join(", ") + ". `startup`, `beat` and `peer` " +
    "build a network namespace and bind-mount procfs and sysfs, so they need root, `ip` and " +
    "`unshare` (`steady` falls back to a fixture tree without them); the bench also uses " +
    "`python3` (CPU and memory of a process from /proc), `curl`, `wrk` (the backend section) " +
    "and, when installed, `prometheus-node-exporter`. Its traffic stays on 127.0.0.1 and inside " +
    "its own namespaces; fixtures go under the system's temporary directory and are removed at " +
    "the end. Only a full run with the default sizes rewrites the files; run it on a quiet " +
    "machine, and read the load table above before trusting a figure. " +
    "On every `deno task test`, `tests/repo/bench_test.ts` runs the fleet simulation and renders " +
    "reports, and `tests/repo/bench_startup_test.ts` proves on a fixture host that each start-up " +
    "floor prints, posts and saves what the agent does.",
    "",
  ].join("\n");
}
