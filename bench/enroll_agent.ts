// bench/enroll_agent.ts: what the time-to-enrolled bench (bench/enroll.ts) reads of the agent: the
// payload it would send (its own `inventory`), whether a run enrolled, and a run's phases from its
// log lines.
import { BENCH_SENSOR_TOKEN } from "./backend.ts";
import {
  agentEnv,
  agentFlags,
  type AgentPlaces,
  decode,
  DENO,
  MAIN,
  timed,
  v8Flags,
} from "./support.ts";

/** The install token every bench enrollment sends; the bench backend takes any. */
export const INSTALL_TOKEN = "bench-install-token-0123456789abcdef";

/** The agent's own phases, from its log timestamps (1 ms resolution) and the bench's clock. */
export interface EnrollPhases {
  /** Process start to the config loaded (the http:// warning): runtime, module graph, config. */
  readonly startupMs: number;
  /** Lock, write check, host snapshot (files, interfaces, sensor IP), machine id. */
  readonly snapshotMs: number;
  /** The enrollment request and the reply's judgement. */
  readonly requestMs: number;
  /** The atomic write: temp file, fsync, rename, directory fsync. */
  readonly persistMs: number;
  /** The last log line to the process's exit. */
  readonly exitMs: number;
}

/** The payload the agent would send, from its own `inventory` command, with the real token. */
export async function enrollmentPayload(
  setup: { places: AgentPlaces; config: string },
): Promise<string> {
  const run = await timed(DENO, [
    "run",
    "-q",
    "--no-prompt",
    ...await v8Flags(),
    ...await agentFlags(setup.places),
    MAIN,
    "inventory",
    "--config",
    setup.config,
  ], { env: agentEnv(setup.places), clearEnv: true, stdout: "piped", stderr: "piped" });
  if (!run.output.success) throw new Error(`inventory failed: ${decode(run.output.stderr)}`);
  const payload = JSON.parse(decode(run.output.stdout));
  return JSON.stringify({ ...payload, installToken: INSTALL_TOKEN });
}

/** Throws unless the run exited 0 with the bench token saved in `config`. */
export async function expectEnrolled(config: string, code: number, stderr: string, what: string) {
  const text = await Deno.readTextFile(config);
  if (code !== 0 || !text.includes(`SENSOR_TOKEN=${BENCH_SENSOR_TOKEN}\n`)) {
    throw new Error(`${what} did not enroll (exit ${code}): ${stderr.slice(0, 500)}`);
  }
}

/** The phases from the agent's log lines; a missing line makes its phase 0 and the next longer. */
export function phasesOf(stderr: string, startedAt: number, exitedAt: number): EnrollPhases {
  const at = (pattern: RegExp, fallback: number) => {
    const line = stderr.split("\n").find((l) => pattern.test(l));
    const time = line === undefined ? NaN : Date.parse(line.slice(0, line.indexOf(" ")));
    return Number.isNaN(time) ? fallback : time;
  };
  const configured = at(/ WARN BACKEND_URL uses http/, startedAt);
  const enrolling = at(/ INFO enrolling /, configured);
  const enrolled = at(/ INFO enrolled /, enrolling);
  const saved = at(/ INFO sensor token saved /, enrolled);
  return {
    startupMs: configured - startedAt,
    snapshotMs: enrolling - configured,
    requestMs: enrolled - enrolling,
    persistMs: saved - enrolled,
    exitMs: Math.max(0, exitedAt - saved),
  };
}
