// bench/report/startup.ts: the start-up section of BENCHMARKS.md (bench/startup.ts): each command
// paired with its floor program, the agent's own timing marks, and the exact commands. Pure.
import type { CommandFigures, StartupResult } from "../startup.ts";
import { commandDetails, fixed, ms, table, verdict } from "./text.ts";

/** The marks lib/timing.ts makes, in the order a command makes them. */
const STEPS = [
  "main",
  "loaded",
  "leftovers",
  "config",
  "locked",
  "interfaces",
  "host",
  "enrolled",
  "saved",
  "done",
];

/** The section. */
export function startupSection(result: StartupResult): string {
  const short = result.rounds < result.requestedPairs
    ? [
      `**Cut short.** ${result.rounds} of the ${result.requestedPairs} pairs asked for fitted in ` +
      "the section's time budget (bench/startup.ts).",
      "",
    ]
    : [];
  return [
    "## Start-up: `enroll`, `inventory`, `status` against their floors",
    "",
    `On ${result.host}, its procfs and sysfs bind-mounted in a private mount namespace at the ` +
    "roots the agent is given (stand-ins for /host/proc and /host/sys, as deployments mount them), " +
    "each command is paired with its floor: one Deno file making the same reads and doing the " +
    "same job, without the agent's checks, logging or retries. The agent is run as it ships: " +
    "sensor-agent.js, the one-file bundle of main.ts and lib/ that `deno task build` writes and " +
    "`deno task compile` embeds, built afresh into the scratch directory by the task's own " +
    "command. Both sides, and the empty " +
    "program, are started exactly alike: the `start` task's V8 flags, deno.json's `agent` " +
    "permission set with stand-in paths for /etc/ravenxcope, /host/* and the host files, the same " +
    "environment (HOST_PROC, HOST_SYS, HOST_*_FILE), the same deno.json and working directory. " +
    "The backend (bench/backend.ts) is its own process inside the namespace. The timing is done " +
    "inside the namespace by bench/startup_runner.ts, spawn to exit with performance.now(), so " +
    "the wrappers that enter it are in neither figure. Each run starts from the same env file, " +
    "written afresh; the runner checks every run did its job (exit 0, the token saved in a 0600 " +
    "file, the same output as the other side, and in the first warm-up the same enrollment " +
    `posted, Idempotency-Key included). ${result.rounds} pairs a command after 3 warm-up ` +
    "rounds, the order inside a pair alternating from round to round.",
    "",
    ...short,
    table(
      [
        "command",
        "agent ms",
        "floor ms",
        "agent / floor *",
        "target",
        "verdict",
        "agent - floor ms",
      ],
      result.commands.map((c) => [
        `\`${c.name}\` vs ${c.floorName}`,
        ms(c.agentMs),
        ms(c.floorMs),
        fixed(c.ratio, 2),
        `<= ${c.target}`,
        verdict(c.ratio, c.target),
        ms(c.agentMs - c.floorMs),
      ]),
    ),
    "",
    `\\* median of the per-pair ratios. The empty Deno program (bench/empty.ts), started the ` +
    `same way: ${ms(result.emptyMs)} ms.`,
    "",
    "**Where the agent's time goes.** Its own marks (lib/timing.ts, printed at " +
    "LOG_LEVEL=debug), in ms since its runtime started the program, medians of " +
    "separate debug runs (not the pairs above); the last column is the rest of those runs' " +
    "time: the runtime's start before its clock began, and the exit.",
    "",
    phaseTable(result.commands),
    "",
    commandDetails(
      [...result.commands.flatMap((c) => [c.agentCommand, c.floorCommand]), result.emptyCommand],
      result.flags,
    ),
    "",
    "<details><summary>All pairs (ms)</summary>",
    "",
    table(
      ["pair", ...result.commands.flatMap((c) => [`${c.name} agent`, `${c.name} floor`])],
      Array.from({ length: result.rounds }, (_, i) => [
        i + 1,
        ...result.commands.flatMap((c) => [ms(c.pairs[i].agentMs), ms(c.pairs[i].floorMs)]),
      ]),
    ),
    "",
    "</details>",
    "",
  ].join("\n");
}

/** One row a command: each mark it made, then the debug runs' time and what lies outside marks. */
function phaseTable(commands: CommandFigures[]): string {
  const steps = STEPS.filter((step) => commands.some((c) => c.phases.steps[step] !== undefined));
  return table(
    ["command", ...steps, "wall", "wall - done"],
    commands.map((c) => [
      c.name,
      ...steps.map((step) => c.phases.steps[step] === undefined ? "" : ms(c.phases.steps[step])),
      ms(c.phases.wallMs),
      ms(c.phases.wallMs - (c.phases.steps.done ?? NaN)),
    ]),
  );
}
