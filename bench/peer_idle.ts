// bench/peer_idle.ts: whole-process CPU in the peer section (bench/peer.ts): `main.ts run` beating
// once a second in the bench namespace beside the Deno floors doing the same job
// (bench/beat_floor_full.ts) and less (bench/beat_floor.ts), each process's CPU read from /proc.
import { join } from "node:path";
import { type BenchNamespace, peakRssKiB, processCpuMs } from "./netns.ts";
import {
  agentEnv,
  agentFlags,
  type AgentPlaces,
  DENO,
  MAIN,
  PROJECT,
  startBenchBackend,
  v8Flags,
  writeIdentityFiles,
} from "./support.ts";

/** Whole-process CPU is measured over this long, after a warm-up. */
const IDLE_SECONDS = 60;
const IDLE_WARMUP_SECONDS = 5;

/** The agent and the floors beating side by side: CPU over IDLE_SECONDS and peak RSS of each. */
export interface IdleResult {
  readonly seconds: number;
  readonly agentCpuMs: number;
  /** bench/beat_floor_full.ts: the same reads and the same POST, nothing else (the target's). */
  readonly floorCpuMs: number;
  readonly ratio: number;
  readonly agentPeakRssKiB: number;
  readonly floorPeakRssKiB: number;
  /** bench/beat_floor.ts: net/dev posted as it is, for scale (the runtime beating at all). */
  readonly bareCpuMs: number;
  readonly barePeakRssKiB: number;
}

/**
 * `main.ts run` as the start task starts it (its V8 flags, the agent's permission set),
 * bench/beat_floor_full.ts (the same job, nothing more) and bench/beat_floor.ts (net/dev posted
 * raw), side by side in the namespace for IDLE_SECONDS, all beating once a second (the backend's
 * replies ask for 1 s): CPU of each whole process, warm-up left out.
 */
export async function wholeProcess(workDir: string, ns: BenchNamespace): Promise<IdleResult> {
  const places: AgentPlaces = {
    configDir: join(workDir, "idle-config"),
    proc: ns.roots.proc,
    sys: ns.roots.sys,
    identityDir: join(workDir, "idle-identity"),
  };
  await writeIdentityFiles(places.identityDir);
  await Deno.mkdir(places.configDir, { recursive: true });
  const lifetime = IDLE_SECONDS + IDLE_WARMUP_SECONDS + 60;
  const backend = await startBenchBackend(lifetime, { netns: ns.name, interval: 1 });
  try {
    const configPath = join(places.configDir, "sensor-agent.env");
    await Deno.writeTextFile(
      configPath,
      `BACKEND_URL=${backend.url}\nSENSOR_ID=bench-idle\nSENSOR_TOKEN=bench-sensor-token-idle-0123456789\n`,
    );
    const spawn = (command: string[], env?: Record<string, string>) =>
      new Deno.Command("ip", {
        args: ns.argv(command),
        env,
        clearEnv: env !== undefined,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
    const agent = spawn([
      DENO,
      "run",
      "-q",
      "--no-prompt",
      ...await v8Flags(),
      ...await agentFlags(places),
      MAIN,
      "run",
      "--config",
      configPath,
    ], agentEnv(places));
    const floorProgram = (script: string) =>
      spawn([
        DENO,
        "run",
        "-q",
        "--allow-net=127.0.0.1",
        `--allow-read=${ns.roots.proc}/net/dev,${ns.roots.sys}/class/net`,
        join(PROJECT, "bench", script),
        `${backend.url}/api/sensors/heartbeat`,
        ns.roots.proc,
        ns.roots.sys,
      ]);
    const floor = floorProgram("beat_floor_full.ts");
    const bare = floorProgram("beat_floor.ts");
    const children = [agent, floor, bare];
    try {
      await new Promise((done) => setTimeout(done, IDLE_WARMUP_SECONDS * 1000));
      const before = await Promise.all(children.map((child) => processCpuMs(child.pid)));
      await new Promise((done) => setTimeout(done, IDLE_SECONDS * 1000));
      const after = await Promise.all(children.map((child) => processCpuMs(child.pid)));
      const [agentCpuMs, floorCpuMs, bareCpuMs] = after.map((ms, i) => ms - before[i]);
      return {
        seconds: IDLE_SECONDS,
        agentCpuMs,
        floorCpuMs,
        ratio: agentCpuMs / floorCpuMs,
        agentPeakRssKiB: await peakRssKiB(agent.pid),
        floorPeakRssKiB: await peakRssKiB(floor.pid),
        bareCpuMs,
        barePeakRssKiB: await peakRssKiB(bare.pid),
      };
    } finally {
      for (const child of children) {
        child.kill("SIGTERM");
        await child.output().catch(() => {});
      }
    }
  } finally {
    await backend.close();
  }
}
