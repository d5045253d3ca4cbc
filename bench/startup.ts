// bench/startup.ts: start-up on the real thing (issue 24). In the bench's network namespace of real
// interfaces, with the real procfs and sysfs bind-mounted the way deployments mount them, each
// command an operator or the installer runs (`enroll`, `inventory`, `status`) is paired run for run
// with its floor: a one-file Deno program making the same reads and doing the same job, started
// exactly as the agent is (the `start` task's V8 flags, the shipped permission set with stand-in
// paths, the same environment, deno.json and working directory). The empty Deno program is timed
// beside them. The timing itself happens inside the namespace (bench/startup_runner.ts), so that
// the wrappers that enter it are in neither figure. The backend is bench/backend.ts, in its own
// process inside the namespace, on its 127.0.0.1.
import { dirname, join } from "node:path";
import { hostBinding } from "../lib/host/mod.ts";
import { AGENT_VERSION } from "../lib/version.ts";
import { BENCH_SENSOR_TOKEN } from "./backend.ts";
import { createBenchNamespace, NETNS_DESCRIPTION, NETNS_INTERFACES } from "./netns.ts";
import {
  agentBundle,
  agentEnv,
  agentFlags,
  type AgentPlaces,
  agentPlaces,
  decode,
  DENO,
  MACHINE_ID,
  median,
  PROJECT,
  startBenchBackend,
  timed,
  v8Flags,
} from "./support.ts";

/** Measured pairs per command: enough for a stable median of the ratios. */
export const STARTUP_PAIRS = 41;
const WARMUP_ROUNDS = 3;
/** Runs of each command at LOG_LEVEL=debug for its timing marks (not in the pairs). */
const PHASE_RUNS = 11;
/** The pairs stop here even if fewer than asked were made (the report says so). */
const BUDGET_SECONDS = 120;
const INSTALL_TOKEN = "bench-install-token-0123456789abcdef";

/** The targets of issue 24, agent / floor. */
export const STARTUP_TARGETS = { enroll: 1.25, inventory: 1.3, status: 1.3 } as const;
export type StartupCommandName = keyof typeof STARTUP_TARGETS;

/** One command as the runner starts it: the agent's script and arguments, and its floor's. */
export interface StartupCommand {
  readonly name: StartupCommandName;
  /** The floor's file, as the report names it. */
  readonly floorName: string;
  /** The env file each run starts from. */
  readonly config: string;
  readonly agent: string[];
  readonly floor: string[];
}

/** How many runs of each kind, and the time they may take. */
export interface StartupSizes {
  readonly pairs: number;
  readonly warmups: number;
  readonly phaseRuns: number;
  readonly budgetSeconds: number;
}

/** What bench/startup_runner.ts is asked to do: `deno run <flags> <script and arguments>`. */
export interface StartupPlan extends StartupSizes {
  /** The flags every program gets: the start task's V8 flags and the agent's permission set. */
  readonly flags: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  readonly configDir: string;
  readonly configPath: string;
  readonly backendUrl: string;
  readonly commands: StartupCommand[];
  readonly empty: string[];
}

/** The agent's timing marks (ms since its runtime started) and the wall time of those runs. */
export interface Phases {
  readonly steps: Record<string, number>;
  readonly wallMs: number;
}

/** What the runner prints: every measured time, and the medians of the debug runs. */
export interface RunnerOutput {
  rounds: number;
  commands: Record<string, { agentMs: number[]; floorMs: number[] }>;
  emptyMs: number[];
  phases: Record<string, Phases>;
}

/** One command against its floor. */
export interface CommandFigures {
  readonly name: StartupCommandName;
  readonly floorName: string;
  /** Medians, ms. */
  readonly agentMs: number;
  readonly floorMs: number;
  /** Median of the per-pair ratios agent / floor. */
  readonly ratio: number;
  readonly target: number;
  readonly pairs: { readonly agentMs: number; readonly floorMs: number }[];
  readonly phases: Phases;
  /** The command line of each side, the flags shared by all shown as $FLAGS. */
  readonly agentCommand: string;
  readonly floorCommand: string;
}

export interface StartupResult {
  readonly host: string;
  readonly rounds: number;
  readonly requestedPairs: number;
  readonly commands: CommandFigures[];
  /** The empty program (bench/empty.ts), started the same way: median ms. */
  readonly emptyMs: number;
  readonly emptyCommand: string;
  /** What $FLAGS stands for in the commands: the same for every program. */
  readonly flags: string;
}

/** Builds the namespace and backend, runs the pairs inside it, and returns the medians. */
export async function measureStartup(
  workDir: string,
  pairs = STARTUP_PAIRS,
): Promise<StartupResult> {
  await using ns = await createBenchNamespace(workDir);
  const places = await agentPlaces(join(workDir, "startup"), ns.roots);
  const agent = await agentBundle(workDir);
  const backend = await startBenchBackend(BUDGET_SECONDS + 180, { netns: ns.name });
  try {
    const plan = await startupPlan(places, agent, backend.url, {
      pairs,
      warmups: WARMUP_ROUNDS,
      phaseRuns: PHASE_RUNS,
      budgetSeconds: BUDGET_SECONDS,
    });
    const output = await runStartupPlan(plan, (argv) => ["ip", ...ns.argv(argv)]);
    const scratch = (text: string) => text.replaceAll(workDir, "<scratch>");
    const shown = (args: string[]) => scratch(["deno run $FLAGS", ...args].join(" "));
    return {
      host: `${NETNS_INTERFACES} real interfaces in a network namespace (${NETNS_DESCRIPTION})`,
      rounds: output.rounds,
      requestedPairs: pairs,
      commands: plan.commands.map((command) => {
        const times = output.commands[command.name];
        const pairs = times.agentMs.map((agentMs, i) => ({ agentMs, floorMs: times.floorMs[i] }));
        return {
          name: command.name,
          floorName: command.floorName,
          agentMs: median(times.agentMs),
          floorMs: median(times.floorMs),
          ratio: median(pairs.map((p) => p.agentMs / p.floorMs)),
          target: STARTUP_TARGETS[command.name],
          pairs,
          phases: output.phases[command.name],
          agentCommand: shown(command.agent),
          floorCommand: shown(command.floor),
        };
      }),
      emptyMs: median(output.emptyMs),
      emptyCommand: shown(plan.empty),
      flags: scratch(plan.flags.join(" ")),
    };
  } finally {
    await backend.close();
  }
}

/**
 * The plan for the agent `program` (its bundle: bench/support.ts agentBundle) at `places` and a
 * backend at `backendUrl`: each command with its floor and the env file it starts from (with
 * `settings` lines added), all started with the `start` task's V8 flags and the shipped set.
 */
export async function startupPlan(
  places: AgentPlaces,
  program: string,
  backendUrl: string,
  sizes: StartupSizes,
  settings = "",
): Promise<StartupPlan> {
  const configPath = join(places.configDir, "sensor-agent.env");
  const agent = (command: string) => [program, command, "--config", configPath];
  const floor = (file: string) => [`bench/${file}`, configPath, AGENT_VERSION];
  const unenrolled = `SENSOR_ID=bench-1\nINSTALL_TOKEN=${INSTALL_TOKEN}\n` +
    `BACKEND_URL=${backendUrl}\n${settings}`;
  const enrolled = `SENSOR_ID=bench-1\nBACKEND_URL=${backendUrl}\n${settings}` +
    `SENSOR_TOKEN=${BENCH_SENSOR_TOKEN}\nSENSOR_HOST_BINDING=${hostBinding(MACHINE_ID)}\n`;
  return {
    ...sizes,
    flags: ["-q", "--no-prompt", ...await v8Flags(), ...await agentFlags(places)],
    cwd: PROJECT,
    env: agentEnv(places),
    configDir: places.configDir,
    configPath,
    backendUrl,
    commands: [
      {
        name: "enroll",
        floorName: "bench/enroll_floor.ts",
        config: unenrolled,
        agent: agent("enroll"),
        floor: floor("enroll_floor.ts"),
      },
      {
        name: "inventory",
        floorName: "bench/inventory_command_floor.ts",
        config: unenrolled,
        agent: agent("inventory"),
        floor: floor("inventory_command_floor.ts"),
      },
      {
        name: "status",
        floorName: "bench/status_floor.ts",
        config: enrolled,
        agent: agent("status"),
        floor: floor("status_floor.ts"),
      },
    ],
    empty: ["bench/empty.ts"],
  };
}

/**
 * Runs bench/startup_runner.ts on `plan`, its argv passed through `wrap` (into the namespace), and
 * returns what it measured; throws with its message when a run did not do its job. The plan is
 * written beside the config directory, where the runner may write.
 */
export async function runStartupPlan(
  plan: StartupPlan,
  wrap: (argv: string[]) => string[] = (argv) => argv,
): Promise<RunnerOutput> {
  const base = dirname(plan.configDir);
  const planPath = join(base, "startup-plan.json");
  await Deno.writeTextFile(planPath, JSON.stringify(plan));
  const [command, ...args] = wrap([
    DENO,
    "run",
    "-q",
    "--no-prompt",
    "--allow-run=deno",
    "--allow-read",
    `--allow-write=${base}`,
    "--allow-net=127.0.0.1",
    join(PROJECT, "bench", "startup_runner.ts"),
    planPath,
  ]);
  const run = await timed(command, args, {
    cwd: PROJECT,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout((plan.budgetSeconds + 120) * 1000),
  });
  if (!run.output.success) {
    const stderr = decode(run.output.stderr).trim();
    const reason = /^error: Uncaught \(in promise\) Error: (.*)$/m.exec(stderr)?.[1] ?? stderr;
    throw new Error(`startup_runner.ts failed: ${reason.slice(0, 600)}`);
  }
  return JSON.parse(decode(run.output.stdout).trim().split("\n").at(-1)!);
}
