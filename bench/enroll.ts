// bench/enroll.ts: time-to-enrolled (issue). `main.ts enroll` from process start to exit with the
// token persisted, against the bench backend (its own process), paired run for run with the floor:
// curl posting the same payload with the same headers, and the shell appending the token line.
// Each pair uses a fresh config; the order inside a pair alternates, so drift (page cache, CPU
// frequency, the other core's load) falls on both sides alike.
import { createHmac } from "node:crypto";
import { dirname, join } from "node:path";
import { writeHostTree } from "../tests/support/hosttree.ts";
import {
  enrollmentPayload,
  type EnrollPhases,
  expectEnrolled,
  INSTALL_TOKEN,
  phasesOf,
} from "./enroll_agent.ts";
import {
  agentEnv,
  agentFlags,
  type AgentPlaces,
  decode,
  DENO,
  fixtureInterfaces,
  MAIN,
  median,
  PROJECT,
  startBenchBackend,
  timed,
  v8Flags,
  writeIdentityFiles,
} from "./support.ts";

export const ENROLL_PAIRS = 25;
const WARMUP_ROUNDS = 3;
const MACHINE_ID = "0123456789abcdef0123456789abcdef"; // as writeIdentityFiles writes it
/** A sensor's typical count: lo, a few ports, a bridge and some container veths. */
const ENROLL_INTERFACES = 8;

export type { EnrollPhases };

export interface EnrollPair {
  readonly agentMs: number;
  readonly floorMs: number;
  readonly ratio: number;
  /** `deno run` of an empty script: the runtime's own start and exit. */
  readonly denoEmptyMs: number;
  /** `main.ts --version` under the same flags: the runtime plus the agent's module graph. */
  readonly agentVersionMs: number;
  /** bench/enroll_floor.ts: a bare Deno script that posts with fetch and appends the line. */
  readonly denoFetchMs: number;
  /** bench/enroll_floor.ts --durable: the same with the agent's fsync'd write of the token. */
  readonly denoDurableMs: number;
  /** `main.ts enroll` bundled into one module by `deno bundle`, and its ratio to this pair's floor. */
  readonly bundledMs: number;
  readonly bundledRatio: number;
  readonly phases: EnrollPhases;
}

export interface EnrollResult {
  readonly pairs: EnrollPair[];
  readonly agentMs: number; // medians
  readonly floorMs: number;
  readonly ratio: number; // median of the per-pair ratios
  readonly denoEmptyMs: number;
  readonly agentVersionMs: number;
  readonly denoFetchMs: number;
  readonly denoDurableMs: number;
  readonly bundledMs: number;
  /** Median of the bundled run's per-pair ratios. */
  readonly bundledRatio: number;
  readonly phases: EnrollPhases;
}

/** Runs warm-up rounds, then `pairs` measured pairs; every config lives under `workDir`. */
export async function measureEnroll(workDir: string, pairs = ENROLL_PAIRS): Promise<EnrollResult> {
  const base = join(workDir, "enroll");
  const { proc, sys } = await writeHostTree(
    join(base, "host"),
    fixtureInterfaces(ENROLL_INTERFACES),
    { defaultRoute: "enp1s0" },
  );
  const identityDir = join(base, "identity");
  await writeIdentityFiles(identityDir);
  const emptyScript = join(base, "empty.ts");
  await Deno.writeTextFile(emptyScript, "");
  const backend = await startBenchBackend(600);
  try {
    let round = 0;
    const fresh = async (): Promise<{ places: AgentPlaces; config: string }> => {
      const configDir = join(base, `config-${round++}`);
      await Deno.mkdir(configDir, { recursive: true });
      const config = join(configDir, "sensor-agent.env");
      await Deno.writeTextFile(
        config,
        `SENSOR_ID=bench-1\nINSTALL_TOKEN=${INSTALL_TOKEN}\nBACKEND_URL=${backend.url}\n`,
      );
      return { places: { configDir, proc, sys, identityDir }, config };
    };
    const payloadFile = join(base, "payload.json");
    await Deno.writeTextFile(payloadFile, await enrollmentPayload(await fresh()));
    const idempotencyKey = createHmac("sha256", INSTALL_TOKEN).update(MACHINE_ID).digest("hex");
    const floorScript = (config: string, reply: string) =>
      `curl -s -X POST -H 'Content-Type: application/json' -H 'Accept: application/json' ` +
      `-H 'Idempotency-Key: ${idempotencyKey}' --data-binary @${payloadFile} ` +
      `${backend.url}/api/sensors/enroll -o ${reply} && printf 'SENSOR_TOKEN=%s\\n' ` +
      `"$(sed -n 's/.*"sensorToken":"\\([^"]*\\)".*/\\1/p' ${reply})" >> ${config}`;

    // deno bundle (Deno 2.4+, offline): the agent as one module, its lazy imports inlined.
    const bundle = join(base, "main.bundle.js");
    const bundling = await timed(DENO, ["bundle", "-q", "--platform", "deno", "-o", bundle, MAIN], {
      cwd: PROJECT,
      stdout: "piped",
      stderr: "piped",
    });
    if (!bundling.output.success) {
      throw new Error(`deno bundle failed: ${decode(bundling.output.stderr).slice(0, 500)}`);
    }
    const runAgent = async (script = MAIN) => {
      const { places, config } = await fresh();
      const flags = [...await v8Flags(), ...await agentFlags(places)];
      const startedAt = Date.now();
      const run = await timed(DENO, [
        "run",
        "-q",
        "--no-prompt",
        ...flags,
        script,
        "enroll",
        "--config",
        config,
      ], { env: agentEnv(places), clearEnv: true, stdout: "null", stderr: "piped" });
      const stderr = decode(run.output.stderr);
      await expectEnrolled(config, run.output.code, stderr, "main.ts enroll");
      return { ms: run.ms, phases: phasesOf(stderr, startedAt, startedAt + run.ms) };
    };
    const runFloor = async () => {
      const { config } = await fresh();
      const run = await timed("sh", ["-c", floorScript(config, `${config}.reply`)], {
        stdout: "null",
        stderr: "piped",
      });
      await expectEnrolled(config, run.output.code, decode(run.output.stderr), "the curl floor");
      return run.ms;
    };
    const runEmpty = async () => (await timed(DENO, ["run", "-q", emptyScript])).ms;
    const runDenoFetch = async (durable = false) => {
      const { config } = await fresh();
      const run = await timed(DENO, [
        "run",
        "-q",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        `--allow-read=${payloadFile},${config},${dirname(config)}`,
        `--allow-write=${config},${config}.tmp`,
        join(PROJECT, "bench", "enroll_floor.ts"),
        `${backend.url}/api/sensors/enroll`,
        payloadFile,
        config,
        ...(durable ? ["--durable"] : []),
      ], { stdout: "null", stderr: "piped" });
      await expectEnrolled(config, run.output.code, decode(run.output.stderr), "enroll_floor.ts");
      return run.ms;
    };
    const runVersion = async () => {
      const { places } = await fresh();
      const run = await timed(DENO, [
        "run",
        "-q",
        "--no-prompt",
        ...await v8Flags(),
        ...await agentFlags(places),
        MAIN,
        "--version",
      ], { env: agentEnv(places), clearEnv: true, stdout: "null" });
      return run.ms;
    };

    for (let i = 0; i < WARMUP_ROUNDS; i++) {
      await runAgent();
      await runFloor();
      await runEmpty();
      await runVersion();
      await runDenoFetch();
      await runDenoFetch(true);
      await runAgent(bundle);
    }
    const measured: EnrollPair[] = [];
    for (let i = 0; i < pairs; i++) {
      let agent: Awaited<ReturnType<typeof runAgent>>;
      let bundled: Awaited<ReturnType<typeof runAgent>>;
      let floorMs: number;
      if (i % 2 === 0) {
        agent = await runAgent();
        floorMs = await runFloor();
        bundled = await runAgent(bundle);
      } else {
        bundled = await runAgent(bundle);
        floorMs = await runFloor();
        agent = await runAgent();
      }
      measured.push({
        agentMs: agent.ms,
        floorMs,
        ratio: agent.ms / floorMs,
        denoEmptyMs: await runEmpty(),
        agentVersionMs: await runVersion(),
        denoFetchMs: await runDenoFetch(),
        denoDurableMs: await runDenoFetch(true),
        bundledMs: bundled.ms,
        bundledRatio: bundled.ms / floorMs,
        phases: agent.phases,
      });
    }
    const of = (pick: (pair: EnrollPair) => number) => median(measured.map(pick));
    return {
      pairs: measured,
      agentMs: of((p) => p.agentMs),
      floorMs: of((p) => p.floorMs),
      ratio: of((p) => p.ratio),
      denoEmptyMs: of((p) => p.denoEmptyMs),
      agentVersionMs: of((p) => p.agentVersionMs),
      denoFetchMs: of((p) => p.denoFetchMs),
      denoDurableMs: of((p) => p.denoDurableMs),
      bundledMs: of((p) => p.bundledMs),
      bundledRatio: of((p) => p.bundledRatio),
      phases: {
        startupMs: of((p) => p.phases.startupMs),
        snapshotMs: of((p) => p.phases.snapshotMs),
        requestMs: of((p) => p.phases.requestMs),
        persistMs: of((p) => p.phases.persistMs),
        exitMs: of((p) => p.phases.exitMs),
      },
    };
  } finally {
    await backend.close();
  }
}
