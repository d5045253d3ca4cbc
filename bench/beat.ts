// bench/beat.ts: the heartbeat as a whole process (issue 24). The agent as it ships (its bundle:
// bench/support.ts agentBundle) running `run`, beating once a second on the bench namespace's real
// interfaces, side by side with its floor (bench/beat_floor_full.ts: the
// same reads, body, headers and reply, nothing else) and, for scale, bench/beat_floor.ts (net/dev
// posted raw). All three are started alike: the `start` task's V8 flags, the shipped permission
// set with stand-in paths, the same environment, deno.json and working directory. They run at the
// same time, so that drift in the machine's speed falls on all of them; CPU of each process (all
// threads, /proc) is divided by the beats the bench backend counted for it over the same window.
import { join } from "node:path";
import { AGENT_VERSION } from "../lib/version.ts";
import { hostBinding } from "../lib/host/mod.ts";
import {
  createBenchNamespace,
  NETNS_DESCRIPTION,
  NETNS_INTERFACES,
  peakRssKiB,
  processCpuMs,
} from "./netns.ts";
import {
  agentBundle,
  agentEnv,
  agentFlags,
  agentPlaces,
  decode,
  DENO,
  MACHINE_ID,
  PROJECT,
  startBenchBackend,
  timed,
  v8Flags,
} from "./support.ts";

/**
 * The measured window, after a warm-up, cut in parts of 60 s: the agent looks at the interface set,
 * host facts and sensor IP again every 60 s (docs/protocol.md), so each part holds one such beat
 * and the parts compare like with like.
 */
export const BEAT_SECONDS = 120;
const PART_SECONDS = 60;
const WARMUP_SECONDS = 10;
/** The targets of issue 24: agent / floor. */
export const BEAT_TARGETS = { cpuRatio: 1.15, peakRssRatio: 1.15 } as const;

/** One process over the window. */
export interface BeatProcess {
  readonly cpuMs: number;
  readonly beats: number;
  readonly cpuMsPerBeat: number;
  readonly peakRssKiB: number;
  /** CPU per beat in each part of the window. */
  readonly windows: number[];
}

export interface BeatResult {
  readonly host: string;
  readonly seconds: number;
  readonly agent: BeatProcess;
  /** bench/beat_floor_full.ts: the same job, nothing more (the targets' floor). */
  readonly floor: BeatProcess;
  /** bench/beat_floor.ts: net/dev posted as read, for scale. */
  readonly bare: BeatProcess;
  /** agent / floor: CPU per beat over the window, and in each part of it; peak RSS. */
  readonly cpuRatio: number;
  readonly windowRatios: number[];
  readonly peakRssRatio: number;
  /** The command line of each side, with $FLAGS for `flags`, the same for both. */
  readonly agentCommand: string;
  readonly floorCommand: string;
  readonly flags: string;
}

/** Long enough for a start to load its program, and so for Deno to cache the compiled code. */
const CODE_CACHE_SECONDS = 2;
const LABELS = { agent: "beat-agent", floor: "beat-floor", bare: "" } as const;
const PROGRAMS = {
  agent: "sensor-agent.js run",
  floor: "bench/beat_floor_full.ts",
  bare: "bench/beat_floor.ts",
} as const;

/** Builds a namespace, starts the three beside each other, and measures them for `seconds`. */
export async function measureBeat(workDir: string, seconds = BEAT_SECONDS): Promise<BeatResult> {
  await using ns = await createBenchNamespace(workDir);
  const places = await agentPlaces(join(workDir, "beat"), ns.roots);
  const backend = await startBenchBackend(seconds + WARMUP_SECONDS + 60, {
    netns: ns.name,
    interval: 1,
  });
  try {
    // Bound to this host already, so that the agent has nothing to save at its first beat.
    const binding = hostBinding(MACHINE_ID);
    const configFor = async (label: string) => {
      const path = join(places.configDir, `${label || "beat-bare"}.env`);
      await Deno.writeTextFile(
        path,
        `BACKEND_URL=${backend.url}\nSENSOR_ID=${label}\nSENSOR_HOST_BINDING=${binding}\n` +
          `SENSOR_TOKEN=bench-sensor-token-${label || "bare"}-0123456789\n`,
        { mode: 0o600 },
      );
      return path;
    };
    const shared = ["-q", "--no-prompt", ...await v8Flags(), ...await agentFlags(places)];
    const flags = ["run", ...shared];
    const argv = {
      agent: [
        ...flags,
        await agentBundle(workDir),
        "run",
        "--config",
        await configFor(LABELS.agent),
      ],
      floor: [...flags, "bench/beat_floor_full.ts", await configFor(LABELS.floor), AGENT_VERSION],
      bare: [...flags, "bench/beat_floor.ts", await configFor(LABELS.bare)],
    };
    const spawn = (args: string[]) =>
      new Deno.Command("ip", {
        args: ns.argv([DENO, ...args]),
        cwd: PROJECT,
        env: agentEnv(places),
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
    // The first start of a file Deno has not run before peaks about 4 MiB higher than the next
    // (measured; a `--version` start first removes it: the compile and code cache written then,
    // we take it). The bundle is new at every bench run and a floor may be new on a fresh clone,
    // so each is started once and stopped before the measured starts: all three then peak as an
    // agent does on a host from its second start on.
    const firstStarts = Object.values(argv).map(spawn);
    await sleep(CODE_CACHE_SECONDS);
    for (const child of firstStarts) {
      child.kill("SIGTERM");
      await child.status;
    }
    const children = { agent: spawn(argv.agent), floor: spawn(argv.floor), bare: spawn(argv.bare) };
    const names = ["agent", "floor", "bare"] as const;
    try {
      await sleep(WARMUP_SECONDS);
      const reading = async () => {
        const cpu = await Promise.all(names.map((name) => processCpuMs(children[name].pid)));
        const beats = await beatCounts(ns.name, backend.url);
        return names.map((name, i) => ({ cpuMs: cpu[i], beats: beats[LABELS[name]] ?? 0 }));
      };
      const parts = Math.max(1, Math.round(seconds / PART_SECONDS));
      const readings = [await reading()];
      for (let i = 0; i < parts; i++) {
        await sleep(seconds / parts);
        readings.push(await reading());
      }
      const first = readings[0];
      const last = readings.at(-1)!;
      const processes = await Promise.all(names.map(async (name, i): Promise<BeatProcess> => {
        const cpuMs = last[i].cpuMs - first[i].cpuMs;
        const beats = last[i].beats - first[i].beats;
        if (beats < 1) throw new Error(`${PROGRAMS[name]} made no beat`);
        return {
          cpuMs,
          beats,
          cpuMsPerBeat: cpuMs / beats,
          peakRssKiB: await peakRssKiB(children[name].pid),
          windows: readings.slice(1).map((r, w) =>
            (r[i].cpuMs - readings[w][i].cpuMs) / (r[i].beats - readings[w][i].beats)
          ),
        };
      }));
      const [agent, floor, bare] = processes;
      const scratch = (text: string) => text.replaceAll(workDir, "<scratch>");
      const shown = (args: string[]) =>
        scratch(["deno run $FLAGS", ...args.slice(flags.length)].join(" "));
      return {
        host: `${NETNS_INTERFACES} real interfaces in a network namespace (${NETNS_DESCRIPTION})`,
        seconds,
        agent,
        floor,
        bare,
        cpuRatio: agent.cpuMsPerBeat / floor.cpuMsPerBeat,
        windowRatios: agent.windows.map((ms, w) => ms / floor.windows[w]),
        peakRssRatio: agent.peakRssKiB / floor.peakRssKiB,
        agentCommand: shown(argv.agent),
        floorCommand: shown(argv.floor),
        flags: scratch(shared.join(" ")),
      };
    } finally {
      for (const child of Object.values(children)) {
        child.kill("SIGTERM");
        await child.status;
      }
    }
  } finally {
    await backend.close();
  }
}

function sleep(seconds: number): Promise<void> {
  return new Promise((done) => setTimeout(done, seconds * 1000));
}

/** Heartbeats the bench backend has answered so far, by sensorLabel; asked from inside `netns`. */
async function beatCounts(netns: string, url: string): Promise<Record<string, number>> {
  const run = await timed("ip", ["netns", "exec", netns, "curl", "-sf", `${url}/bench/beats`], {
    stdout: "piped",
  });
  if (!run.output.success) throw new Error("the bench backend did not give its beat counts");
  return JSON.parse(decode(run.output.stdout));
}
