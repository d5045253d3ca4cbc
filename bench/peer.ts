// bench/peer.ts: the agent beside its peer on 64 real interfaces in a network namespace (issue 12):
// node_exporter (netdev + netclass, reading sysfs and over netlink) CPU per scrape, the Python
// floors doing the agent's reads (reopening every file, or keeping them open), the agent's own
// interface read, and whole-process CPU of `main.ts run` beating once a second against a minimal
// Deno program doing the same reads and the same POST (bench/beat_floor_full.ts). CPU of a process
// is read from /proc (bench/netns.ts).
import { join } from "node:path";
import {
  createBenchNamespace,
  NETNS_INTERFACES,
  netnsUnavailable,
  processCpuMs,
  statCpuMs,
} from "./netns.ts";
import {
  agentEnv,
  agentFlags,
  type AgentPlaces,
  decode,
  DENO,
  MAIN,
  median,
  PROJECT,
  startBenchBackend,
  timed,
  v8Flags,
  writeIdentityFiles,
} from "./support.ts";

const NODE_EXPORTER = "prometheus-node-exporter";
const SCRAPES = 100;
const FLOOR_REPETITIONS = 201;
/** Whole-process CPU is measured over this long, after a warm-up. */
const IDLE_SECONDS = 60;
const IDLE_WARMUP_SECONDS = 5;

export interface ExporterRun {
  readonly mode: "sysfs" | "netlink";
  readonly cpuMsPerScrape: number; // schedstat, all threads
  readonly statCpuMsPerScrape: number; // utime + stime, 10 ms ticks
  readonly peakRssKiB: number;
}

export interface PeerResult {
  readonly interfaces: number;
  readonly scrapes: number;
  readonly exporter: ExporterRun[];
  /** Why node_exporter was not measured, when it was not. */
  readonly exporterMissing?: string;
  readonly exporterVersion?: string;
  /** Medians per collection, ms. */
  readonly pythonReopenMs: number;
  readonly pythonKeptMs: number;
  readonly agentReadMs: number;
  readonly idle: {
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
  };
}

/** Why this section cannot run here, or undefined. */
export function peerUnavailable(): Promise<string | undefined> {
  return netnsUnavailable();
}

export async function measurePeer(workDir: string): Promise<PeerResult> {
  await using ns = await createBenchNamespace(workDir);
  const { proc, sys } = ns.roots;
  const inNs = (command: string[], options: Omit<Deno.CommandOptions, "args"> = {}) =>
    timed("ip", ns.argv(command), { stdout: "piped", stderr: "piped", ...options });
  const samples = async (command: string[]) => {
    const run = await inNs(command);
    if (!run.output.success) throw new Error(`${command[0]}: ${decode(run.output.stderr)}`);
    const parsed = JSON.parse(decode(run.output.stdout).trim());
    if (parsed.interfaces !== NETNS_INTERFACES) {
      throw new Error(`${command.join(" ")} saw ${parsed.interfaces} interfaces`);
    }
    return median(parsed.samplesMs);
  };
  const reps = String(FLOOR_REPETITIONS);
  const pythonReopenMs = await samples([
    "python3",
    join(PROJECT, "bench", "inventory_floor.py"),
    proc,
    sys,
    reps,
  ]);
  const pythonKeptMs = await samples([
    "python3",
    join(PROJECT, "bench", "kept_floor.py"),
    proc,
    sys,
    reps,
  ]);
  // Under the shipped set's grants for procfs and sysfs, nothing wider.
  const grants = `--allow-read=${proc}/net/dev,${proc}/net/route,${sys}/class/net`;
  const agentReadMs = await samples([
    DENO,
    "run",
    "-q",
    "--no-prompt",
    grants,
    join(PROJECT, "bench", "watch_cost.ts"),
    proc,
    sys,
    reps,
  ]);
  const exporter: ExporterRun[] = [];
  let exporterMissing: string | undefined;
  let exporterVersion: string | undefined;
  try {
    const version = (await timed(NODE_EXPORTER, ["--version"], {
      stdout: "piped",
      stderr: "piped",
    })).output;
    exporterVersion = (decode(version.stdout) || decode(version.stderr)).split("\n")[0].trim();
    for (const mode of ["sysfs", "netlink"] as const) exporter.push(await scrapeExporter(ns, mode));
  } catch (error) {
    exporterMissing = error instanceof Deno.errors.NotFound
      ? `${NODE_EXPORTER} is not installed (apt-get install prometheus-node-exporter)`
      : String(error);
  }
  const idle = await wholeProcess(workDir, ns);
  return {
    interfaces: NETNS_INTERFACES,
    scrapes: SCRAPES,
    exporter,
    exporterMissing,
    exporterVersion,
    pythonReopenMs,
    pythonKeptMs,
    agentReadMs,
    idle,
  };
}

type Namespace = Awaited<ReturnType<typeof createBenchNamespace>>;

/** node_exporter with only netdev and netclass, on the namespace's roots, scraped SCRAPES times. */
async function scrapeExporter(ns: Namespace, mode: "sysfs" | "netlink"): Promise<ExporterRun> {
  const port = 19100 + (Deno.pid % 500);
  const args = [
    NODE_EXPORTER,
    `--web.listen-address=127.0.0.1:${port}`,
    "--collector.disable-defaults",
    "--collector.netdev",
    "--collector.netclass",
    ...(mode === "netlink" ? ["--collector.netclass.netlink"] : []),
    `--path.procfs=${ns.roots.proc}`,
    `--path.sysfs=${ns.roots.sys}`,
  ];
  const child = new Deno.Command("ip", {
    args: ns.argv(args),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const scrape = (count: number) =>
      timed("ip", [
        ...["netns", "exec", ns.name, "sh", "-c"],
        `for i in $(seq ${count}); do curl -sf -o /dev/null http://127.0.0.1:${port}/metrics || exit 1; done`,
      ]);
    let ready = false;
    for (let i = 0; i < 50 && !ready; i++) {
      ready = (await scrape(1)).output.success;
      if (!ready) await new Promise((done) => setTimeout(done, 100));
    }
    if (!ready) throw new Error(`node_exporter (${mode}) did not answer`);
    await scrape(5); // warm-up
    const [cpu0, stat0] = [await processCpuMs(child.pid), await statCpuMs(child.pid)];
    if (!(await scrape(SCRAPES)).output.success) throw new Error(`a ${mode} scrape failed`);
    const [cpu1, stat1] = [await processCpuMs(child.pid), await statCpuMs(child.pid)];
    return {
      mode,
      cpuMsPerScrape: (cpu1 - cpu0) / SCRAPES,
      statCpuMsPerScrape: (stat1 - stat0) / SCRAPES,
      peakRssKiB: await peakRssKiB(child.pid),
    };
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

/** VmHWM of a live process, KiB. */
async function peakRssKiB(pid: number): Promise<number> {
  const run = await timed("python3", [
    "-c",
    "import sys,re\nprint(re.search(r'VmHWM:\\s*(\\d+)', open(f'/proc/{sys.argv[1]}/status').read()).group(1))",
    String(pid),
  ], { stdout: "piped" });
  return Number(decode(run.output.stdout).trim());
}

/**
 * `main.ts run` as the start task starts it (its V8 flags, the agent's permission set),
 * bench/beat_floor_full.ts (the same job, nothing more) and bench/beat_floor.ts (net/dev posted
 * raw), side by side in the namespace for IDLE_SECONDS, all beating once a second (the backend's
 * replies ask for 1 s): CPU of each whole process, warm-up left out.
 */
async function wholeProcess(workDir: string, ns: Namespace): Promise<PeerResult["idle"]> {
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
