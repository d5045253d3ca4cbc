// bench/startup_runner.ts: the timing half of bench/startup.ts, started once inside the bench's
// network namespace and private mount namespace, so that neither `ip netns exec`, `unshare` nor a
// shell lies between a measured process and its clock. It starts each command of the plan and its
// floor in turn (the order alternating from round to round), times each from spawn to exit with
// performance.now(), checks every run did its job (the token saved, the same output as the other
// side, the same payload posted), and prints one JSON line of times. Each run starts from the same
// config file, written afresh before it (untimed).
// Usage: startup_runner.ts <plan.json>
import { BENCH_SENSOR_TOKEN, type SeenEnrollment } from "./backend.ts";
import type { RunnerOutput, StartupCommand, StartupPlan } from "./startup.ts";
import { median } from "./support.ts";

const plan: StartupPlan = JSON.parse(await Deno.readTextFile(Deno.args[0]));
const decoder = new TextDecoder();

/** One finished process: its time from spawn to exit, exit code and output. */
interface Run {
  readonly ms: number;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Writes `config` afresh as the only file of the config directory, then times `argv`. */
async function timedRun(program: string[], config: string, extraEnv = {}): Promise<Run> {
  await Deno.remove(plan.configDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(plan.configDir, { mode: 0o700 });
  await Deno.writeTextFile(plan.configPath, config, { mode: 0o600 });
  const command = new Deno.Command("deno", {
    args: ["run", ...plan.flags, ...program],
    cwd: plan.cwd,
    env: { ...plan.env, ...extraEnv },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const started = performance.now();
  const output = await command.output();
  const ms = performance.now() - started;
  return {
    ms,
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Counters change between runs (the backend's traffic is on lo): the rest must not. */
function withoutCounters(text: string): string {
  return text.replace(/"bytes(Sent|Recv)": ?\d+/g, '"bytes$1":0');
}

/** Throws unless `run` (of `who`) did the job of `command`; returns what to compare across sides. */
async function judged(command: StartupCommand, who: string, run: Run): Promise<string> {
  const what = `${who} (${command.name})`;
  if (run.code !== 0) {
    throw new Error(`${what} exited ${run.code}: ${run.stderr.trim().slice(0, 400)}`);
  }
  if (command.name !== "enroll") return withoutCounters(run.stdout);
  const saved = await Deno.readTextFile(plan.configPath);
  const mode = (await Deno.stat(plan.configPath)).mode! & 0o777;
  if (!saved.includes(`\nSENSOR_TOKEN=${BENCH_SENSOR_TOKEN}\n`) || mode !== 0o600) {
    throw new Error(`${what} exited 0 without the token saved in a 0600 file`);
  }
  return "";
}

/** The fields of a request that differ, named (body.hostname, headers.user-agent), no values. */
function differences(agent: SeenEnrollment, floor: SeenEnrollment): string[] {
  const named = (part: "body" | "headers") => {
    const [a, b] = [agent[part], floor[part]] as Record<string, unknown>[];
    const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
    return [...keys].filter((k) => JSON.stringify(a?.[k]) !== JSON.stringify(b?.[k]))
      .map((k) => `${part}.${k}`);
  };
  return [...named("body"), ...named("headers")];
}

/** The last enrollment the bench backend received, counters left out. */
async function lastEnrollment(): Promise<string> {
  const reply = await fetch(`${plan.backendUrl}/bench/last-enrollment`);
  const seen: SeenEnrollment = await reply.json();
  return withoutCounters(JSON.stringify(seen, null, 1));
}

/** Runs the agent and the floor of `command` once each, in `order`; checks both sides agree. */
async function pair(command: StartupCommand, agentFirst: boolean, checkPayload: boolean) {
  const sides = agentFirst ? ["agent", "floor"] as const : ["floor", "agent"] as const;
  const runs: Record<string, Run> = {};
  const seen: Record<string, string> = {};
  const posted: Record<string, string> = {};
  for (const side of sides) {
    runs[side] = await timedRun(command[side], command.config);
    seen[side] = await judged(
      command,
      side === "agent" ? "the agent" : command.floorName,
      runs[side],
    );
    if (checkPayload && command.name === "enroll") posted[side] = await lastEnrollment();
  }
  if (seen.agent !== seen.floor) {
    throw new Error(
      `${command.floorName} printed other than the agent's \`${command.name}\`: ` +
        `${JSON.stringify(seen.floor.slice(0, 300))} against ${
          JSON.stringify(seen.agent.slice(0, 300))
        }`,
    );
  }
  if (posted.agent !== posted.floor) {
    throw new Error(
      `${command.floorName} posted another enrollment than the agent: ` +
        differences(JSON.parse(posted.agent), JSON.parse(posted.floor)).join(", "),
    );
  }
  return { agentMs: runs.agent.ms, floorMs: runs.floor.ms };
}

/** The agent at LOG_LEVEL=debug: its own timing marks (lib/timing.ts) and the run's time. */
async function phases(command: StartupCommand) {
  const marks: Record<string, number[]> = {};
  const walls: number[] = [];
  for (let i = 0; i < plan.phaseRuns; i++) {
    const run = await timedRun(command.agent, command.config, {
      LOG_LEVEL: "debug",
      LOG_FORMAT: "json",
    });
    await judged(command, "the agent at LOG_LEVEL=debug", run);
    const line = run.stderr.split("\n").find((l) => l.includes('"msg":"timing '));
    if (line === undefined) throw new Error(`the agent's ${command.name} printed no timing line`);
    const { time: _, level: __, msg: ___, ...fields } = JSON.parse(line);
    for (const [step, ms] of Object.entries(fields)) (marks[step] ??= []).push(Number(ms));
    walls.push(run.ms);
  }
  const steps = Object.fromEntries(Object.entries(marks).map(([step, ms]) => [step, median(ms)]));
  return { steps, wallMs: median(walls) };
}

const started = performance.now();
const output: RunnerOutput = { rounds: 0, commands: {}, emptyMs: [], phases: {} };
for (const command of plan.commands) output.commands[command.name] = { agentMs: [], floorMs: [] };
for (let round = -plan.warmups; round < plan.pairs; round++) {
  if (round >= 0 && performance.now() - started > plan.budgetSeconds * 1000) break;
  for (const command of plan.commands) {
    // The first warm-up round also proves the floor posts what the agent posts.
    const times = await pair(command, round % 2 === 0, round === -plan.warmups);
    if (round >= 0) {
      output.commands[command.name].agentMs.push(times.agentMs);
      output.commands[command.name].floorMs.push(times.floorMs);
    }
  }
  const empty = await timedRun(plan.empty, "");
  if (empty.code !== 0) throw new Error(`the empty program exited ${empty.code}`);
  if (round >= 0) {
    output.emptyMs.push(empty.ms);
    output.rounds++;
  }
}
for (const command of plan.commands) output.phases[command.name] = await phases(command);
console.log(JSON.stringify(output));
