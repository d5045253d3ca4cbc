// bench/report/enroll.ts: the time-to-enrolled section of BENCHMARKS.md (bench/enroll.ts): the
// agent's enrollment paired with the curl floor, the runtime's own floors, and the agent's phases.
import type { EnrollResult } from "../enroll.ts";
import { fixed, ms, table, TARGETS } from "./text.ts";

/** The section, with why it misses its target when it does. */
export function enrollSection(result: EnrollResult): string {
  const { phases } = result;
  const runtimeOverCurl = result.denoEmptyMs / result.floorMs;
  const budgetMs = TARGETS.enrollRatio * result.floorMs;
  const why = result.ratio <= TARGETS.enrollRatio ? [] : [
    "",
    `**Why it misses.** The target allows ${ms(budgetMs)} ms (${TARGETS.enrollRatio} x the ` +
    `${ms(result.floorMs)} ms floor). Deno itself takes ${
      ms(result.denoEmptyMs)
    } ms to start and ` +
    `exit an empty script (${fixed(runtimeOverCurl, 2)} x curl), which leaves ` +
    `${ms(budgetMs - result.denoEmptyMs)} ms for everything the agent does on top, and a bare ` +
    `script that only posts with \`fetch\` and appends the line already needs ` +
    `${ms(result.denoFetchMs)} ms (${fixed(result.denoFetchMs / result.floorMs, 2)} x). The ` +
    `agent spends ${ms(result.agentMs - result.denoEmptyMs)} ms on top of the runtime. ` +
    `Loading its modules takes ` +
    `${
      ms(result.agentVersionMs - result.denoEmptyMs)
    } ms (\`--version\` minus the empty script), ` +
    `the enrollment request ${phases.requestMs} ms (most of it the runtime setting \`fetch\` ` +
    `up on its first use), the durable write ${phases.persistMs} ms (two fsyncs, which the ` +
    `floor does not do).`,
  ];
  return [
    "## Time-to-enrolled",
    "",
    `\`main.ts enroll\` from process start to exit with the token persisted, against the bench ` +
    `backend (bench/backend.ts, **a separate process** on 127.0.0.1, so its work stays off the ` +
    `measured clocks), paired run for run with the floor: \`curl\` posting the same payload with ` +
    `the same headers, then \`sed\` and \`printf\` appending the token line, in one \`sh -c\`. ` +
    `Each run gets a fresh config; the order inside a pair alternates. The agent runs under ` +
    `deno.json's \`agent\` permission set with scratch paths in place of /etc/ravenxcope and ` +
    `/host/*, net narrowed to 127.0.0.1, on a fixture host of 8 interfaces. ` +
    `${result.pairs.length} pairs after warm-up; medians.`,
    "",
    table(["", "median ms", "/ curl floor"], [
      ["`main.ts enroll` (time-to-enrolled)", ms(result.agentMs), fixed(result.ratio, 2) + " *"],
      ["curl + shell (the floor)", ms(result.floorMs), "1.00"],
      [
        "`deno run` of an empty script (the runtime's floor)",
        ms(result.denoEmptyMs),
        fixed(result.denoEmptyMs / result.floorMs, 2),
      ],
      [
        "`main.ts --version` (runtime + the agent's module graph)",
        ms(result.agentVersionMs),
        fixed(result.agentVersionMs / result.floorMs, 2),
      ],
      [
        "bench/enroll_floor.ts: a bare Deno script that posts with `fetch` and appends the line",
        ms(result.denoFetchMs),
        fixed(result.denoFetchMs / result.floorMs, 2),
      ],
      [
        "the same, writing the token as the agent must (temp file, fsync, rename, fsync dir)",
        ms(result.denoDurableMs),
        fixed(result.denoDurableMs / result.floorMs, 2),
      ],
      [
        "`main.ts enroll` bundled into one module (`deno bundle`), paired like the agent",
        ms(result.bundledMs),
        fixed(result.bundledRatio, 2) + " *",
      ],
    ]),
    "",
    "\\* median of the per-pair ratios (the other rows: ratio of medians).",
    "",
    bundleVerdict(result),
    "",
    "The agent's own breakdown, from its log timestamps (1 ms resolution), medians:",
    "",
    table(["phase", "ms"], [
      ["start to config loaded (runtime, modules, env file)", phases.startupMs],
      ["lock, write check, host snapshot (files, interfaces, sensor IP dial)", phases.snapshotMs],
      ["enrollment request and reply", phases.requestMs],
      ["atomic write of the token (temp file, fsync, rename, fsync dir)", phases.persistMs],
      ["last log line to exit", ms(phases.exitMs, 0)],
    ]),
    ...why,
    "",
    "<details><summary>All pairs (ms)</summary>",
    "",
    table(
      ["pair", "agent", "floor", "ratio", "empty deno", "--version", "bare fetch script"],
      result.pairs.map((p, i) => [
        i + 1,
        ms(p.agentMs),
        ms(p.floorMs),
        fixed(p.ratio, 2),
        ms(p.denoEmptyMs),
        ms(p.agentVersionMs),
        ms(p.denoFetchMs),
      ]),
    ),
    "",
    "</details>",
    "",
  ].join("\n");
}

/** Whether one bundled module starts faster than the module graph, from this run's pairs. */
function bundleVerdict(result: EnrollResult): string {
  const gainMs = result.agentMs - result.bundledMs;
  return `\`deno bundle\` works offline in Deno 2.9 and turns the agent's lazy imports into ` +
    `inlined initialisers. Here the bundled agent enrolls in ${ms(result.bundledMs)} ms against ` +
    `${ms(result.agentMs)} ms for the module graph (${gainMs >= 0 ? "faster" : "slower"} by ` +
    `${ms(Math.abs(gainMs))} ms, median ratio ${fixed(result.bundledRatio, 2)} against ` +
    `${fixed(result.ratio, 2)}). The durable floor row is the least any enrolling program that ` +
    `keeps the contract's write can take: ${
      fixed(result.denoDurableMs / result.floorMs, 2)
    } x curl.`;
}
