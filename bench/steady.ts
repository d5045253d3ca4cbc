// bench/steady.ts: steady state (issues 12 and 24). The agent's real heartbeat loop (runHeartbeats)
// in one process, its wait returning at once, each beat a fresh collectSnapshot of the bench
// namespace's real interfaces (a fixture host where no namespace can be made) sent over real HTTP
// to the bench backend (its own process, so the server's work is not on this process's CPU clock).
// RSS and CPU are read after 100 beats and after 10,000; then the floor (bench/steady_floor.ts)
// goes through the same beats, and the agent's RSS growth is held to the floor's.
//
// The measured child is bench/steady_child.ts: it runs under the agent's permission set
// (bench/support.ts agentFlags), loads its config as the agent does, and prints one JSON line.
import { join } from "node:path";
import { writeHostTree } from "../tests/support/hosttree.ts";
import { AGENT_VERSION } from "../lib/version.ts";
import {
  createBenchNamespace,
  NETNS_DESCRIPTION,
  NETNS_INTERFACES,
  netnsUnavailable,
} from "./netns.ts";
import {
  agentEnv,
  agentFlags,
  type AgentPlaces,
  agentPlaces,
  decode,
  DENO,
  fixtureInterfaces,
  PROJECT,
  startBenchBackend,
  timed,
  v8Flags,
} from "./support.ts";

export const STEADY_INTERFACES = NETNS_INTERFACES;
export const STEADY_BEATS = 10_000;
export const STEADY_FIRST_MARK = 100;
/** Readings in between, to tell a warm-up that levels off from growth that goes on. */
export const STEADY_MIDDLE_MARKS = [1_000, 2_500, 5_000];
/**
 * The child stops beating after this long even if it has not reached its count, and reports the
 * beats it made (the report says so): the whole bench must stay under 3 minutes on 2 cores.
 */
const STEADY_BUDGET_SECONDS = 125;
/** The child is killed if it has not reported this long after its budget. */
const STEADY_GRACE_SECONDS = 30;

/**
 * One reading of the process, taken right after a full garbage collection so that garbage not yet
 * collected does not pass for growth: resident set, V8 heap, and CPU time (user + system) so far.
 */
export interface Reading {
  readonly rssBytes: number;
  /** Live JS objects: what the agent still holds. */
  readonly heapUsedBytes: number;
  /** What V8 has reserved for the JS heap, live or not. */
  readonly heapTotalBytes: number;
  /** Memory of ArrayBuffers and other objects V8 tracks outside its heap. */
  readonly externalBytes: number;
  readonly cpuMs: number;
  readonly wallMs: number;
}

export interface SteadyResult {
  /** Where the interfaces came from: the namespace of real ones, or the fixture tree. */
  readonly host?: string;
  readonly interfaces: number;
  /** Beats asked for, and beats made: fewer when the time budget ran out first. */
  readonly requestedBeats: number;
  readonly beats: number;
  readonly atFirstMark: Reading;
  /** Readings between the first mark and the end, by beat. */
  readonly between: { readonly beat: number; readonly reading: Reading }[];
  readonly atEnd: Reading;
  /** Beats whose reply was not a success (their wait is a backoff): 0, or the run is void. */
  readonly failedBeats: number;
  /** Log lines at warn or above during the run (the loop logs a lost backend there). */
  readonly warnings: string[];
  /** (rss at the end - rss at beat 100) / rss at beat 100: no worse than the floor's. */
  readonly rssGrowth: number;
  /** CPU per beat between beat 100 and the end. */
  readonly cpuMsPerBeat: number;
  readonly wallMsPerBeat: number;
  /**
   * bench/steady_floor.ts through the same beats, host, backend, flags and permission set: the
   * agent's reads, body and request, nothing else. Its growth is the runtime's own doing the job.
   */
  readonly floor?: FloorResult;
}

/** What bench/steady_floor.ts prints. */
export interface FloorResult {
  readonly rssGrowth: number;
  readonly cpuMsPerBeat: number;
  readonly atFirstMark: { readonly rssBytes: number; readonly heapTotalBytes: number };
  readonly atEnd: { readonly rssBytes: number; readonly heapTotalBytes: number };
}

/** Sets up the fixture host and config, runs the child under the agent's set, returns its numbers. */
export async function measureSteady(workDir: string, beats = STEADY_BEATS): Promise<SteadyResult> {
  // Real interfaces where the bench may build a namespace (root); else the fixture tree, which sits
  // near the top of the file system: Deno checks every component of every path it opens.
  const unavailable = await netnsUnavailable();
  await using netns = unavailable === undefined ? await createBenchNamespace(workDir) : undefined;
  const { proc, sys } = netns?.roots ?? await writeHostTree(
    join(workDir, "steady"),
    fixtureInterfaces(STEADY_INTERFACES),
    { defaultRoute: "enp1s0" },
  );
  const host = netns
    ? `${NETNS_INTERFACES} real interfaces in a network namespace (${NETNS_DESCRIPTION}), ` +
      `its procfs and sysfs bind-mounted at scratch roots as deployments mount /host/*`
    : `a ${STEADY_INTERFACES}-interface fixture tree (no network namespace here: ${unavailable})`;
  const places = await agentPlaces(join(workDir, "steady-agent"), { proc, sys });
  const backend = await startBenchBackend(STEADY_BUDGET_SECONDS + STEADY_GRACE_SECONDS + 10, {
    netns: netns?.name,
  });
  try {
    const configPath = join(places.configDir, "sensor-agent.env");
    await Deno.writeTextFile(
      configPath,
      `BACKEND_URL=${backend.url}\nSENSOR_ID=bench-1\nSENSOR_TOKEN=bench-sensor-token-steady-0123456789\n`,
    );
    const child = [
      DENO,
      "run",
      "-q",
      "--no-prompt",
      ...await v8Flags(["--expose-gc"]),
      ...await agentFlags(places),
      join(PROJECT, "bench", "steady_child.ts"),
      configPath,
      String(beats),
      String(STEADY_BUDGET_SECONDS),
    ];
    const [command, ...args] = netns ? ["ip", ...netns.argv(child)] : child;
    const run = await timed(command, args, {
      cwd: PROJECT,
      env: { ...agentEnv(places), SENSOR_AGENT_CONFIG: configPath },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
      // Bounded in time as well as in beats: a regression must not stall the whole bench.
      signal: AbortSignal.timeout((STEADY_BUDGET_SECONDS + STEADY_GRACE_SECONDS) * 1000),
    });
    if (!run.output.success) {
      throw new Error(
        `steady_child.ts failed (exit ${run.output.code}${
          run.output.signal ? `, killed by ${run.output.signal}` : ""
        }): ${decode(run.output.stderr).slice(0, 500)}`,
      );
    }
    const result = JSON.parse(decode(run.output.stdout).trim().split("\n").at(-1)!);
    return { ...result, host, floor: await measureFloor(netns, places, backend.url, result.beats) };
  } finally {
    await backend.close();
  }
}

/**
 * The floor loop in the agent's place: bench/steady_floor.ts started exactly as the child is (the
 * same V8 flags, permission set, environment and working directory), on the same host and
 * backend, for the same beats.
 */
async function measureFloor(
  netns: { argv(command: string[]): string[] } | undefined,
  places: AgentPlaces,
  backendUrl: string,
  beats: number,
): Promise<FloorResult> {
  const configPath = join(places.configDir, "steady-floor.env");
  await Deno.writeTextFile(
    configPath,
    `BACKEND_URL=${backendUrl}\nSENSOR_ID=bench-1\nSENSOR_TOKEN=bench-sensor-token-steady-0123456789\n`,
    { mode: 0o600 },
  );
  const child = [
    DENO,
    "run",
    "-q",
    "--no-prompt",
    ...await v8Flags(["--expose-gc"]),
    ...await agentFlags(places),
    join(PROJECT, "bench", "steady_floor.ts"),
    configPath,
    AGENT_VERSION,
    String(beats),
  ];
  const [command, ...args] = netns ? ["ip", ...netns.argv(child)] : child;
  const run = await timed(command, args, {
    cwd: PROJECT,
    env: agentEnv(places),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout((STEADY_BUDGET_SECONDS + STEADY_GRACE_SECONDS) * 1000),
  });
  if (!run.output.success) {
    throw new Error(`steady_floor.ts failed: ${decode(run.output.stderr).slice(0, 500)}`);
  }
  return JSON.parse(decode(run.output.stdout).trim().split("\n").at(-1)!);
}
