// bench/peer.ts: the agent beside its peer on the bench namespace's real interfaces (issue 12):
// node_exporter (netdev + netclass, reading sysfs and over netlink) CPU per scrape, the Python
// floors doing the agent's reads (reopening every file, or keeping them open), and the agent's own
// interface read. CPU of a process is read from /proc (bench/netns.ts). The agent's whole process
// beside its floor is bench/beat.ts.
import { join } from "node:path";
import {
  type BenchNamespace,
  createBenchNamespace,
  NETNS_INTERFACES,
  peakRssKiB,
  processCpuMs,
  statCpuMs,
} from "./netns.ts";
import { decode, DENO, median, PROJECT, timed } from "./support.ts";

const NODE_EXPORTER = "prometheus-node-exporter";
const SCRAPES = 100;
const FLOOR_REPETITIONS = 201;

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
  return {
    interfaces: NETNS_INTERFACES,
    scrapes: SCRAPES,
    exporter,
    exporterMissing,
    exporterVersion,
    pythonReopenMs,
    pythonKeptMs,
    agentReadMs,
  };
}

/** node_exporter with only netdev and netclass, on the namespace's roots, scraped SCRAPES times. */
async function scrapeExporter(ns: BenchNamespace, mode: "sysfs" | "netlink"): Promise<ExporterRun> {
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
