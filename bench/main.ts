// bench/main.ts: `deno task bench`. Runs the benchmarks of the performance issues one after the
// other (each bounded in runs and in time, the whole within about 5 minutes on 2 cores), noting
// what else the machine did meanwhile, then rewrites BENCHMARKS.md and the fleet histogram.
// A complete run with the default sizes writes the files; `--only`, smaller sizes or a failed
// section print the report on stdout instead, so a quick look never replaces the numbers of record.
// Permissions: --allow-run=deno is already everything (the children get their own scoped sets),
// and Deno.symlink (the fixture trees) wants unscoped read and write.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BackendLoadResult, measureBackendLoad } from "./backend_load.ts";
import { BEAT_SECONDS, type BeatResult, measureBeat } from "./beat.ts";
import { FLEET_SCENARIO, type FleetResult, simulateFleet } from "./fleet.ts";
import { type InventoryResult, measureInventory } from "./inventory.ts";
import { loadAverage, type SectionLoad, watchLoad } from "./load.ts";
import { type BenchResults, type Machine, renderReport, SECTIONS } from "./report/mod.ts";
import { netnsUnavailable } from "./netns.ts";
import { measurePeer, type PeerResult } from "./peer.ts";
import { measureStartup, STARTUP_PAIRS, type StartupResult } from "./startup.ts";
import { measureSteady, STEADY_BEATS, type SteadyResult } from "./steady.ts";
import { decode, DENO, PROJECT, timed } from "./support.ts";
import { histogramSvg } from "./svg.ts";

type Section = typeof SECTIONS[number];
/** Sections that build a network namespace, and so need root. */
const NEEDS_NETNS: readonly Section[] = ["startup", "beat", "peer"];
const SVG_PATH = "docs/fleet-histogram.svg";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    only: { type: "string", multiple: true },
    beats: { type: "string", default: String(STEADY_BEATS) },
    pairs: { type: "string", default: String(STARTUP_PAIRS) },
    "beat-seconds": { type: "string", default: String(BEAT_SECONDS) },
  },
});
const only = (values.only ?? []) as string[];
for (const name of only) {
  if (!(SECTIONS as readonly string[]).includes(name)) {
    throw new Error(`--only ${name}: the sections are ${SECTIONS.join(", ")}`);
  }
}
const selected = (section: Section) => only.length === 0 || only.includes(section);
const beats = Number(values.beats);
const pairs = Number(values.pairs);
const beatSeconds = Number(values["beat-seconds"]);
if (!(beats > 100) || !(pairs >= 1) || !(beatSeconds >= 3)) {
  throw new Error("--beats must exceed 100, --pairs be >= 1, --beat-seconds >= 3");
}
const fullRun = only.length === 0 && beats === STEADY_BEATS && pairs >= STARTUP_PAIRS &&
  beatSeconds >= BEAT_SECONDS;

const started = performance.now();
const say = (text: string) =>
  console.error(`[${fixed((performance.now() - started) / 1000)} s] ${text}`);

function fixed(value: number): string {
  return value.toFixed(1).padStart(5);
}

async function main(): Promise<void> {
  const workDir = await Deno.makeTempDir({ prefix: "rx-bench-" });
  const failures: Record<string, string> = {};
  const loads: Partial<Record<Section, SectionLoad>> = {};
  let startup: StartupResult | undefined;
  let steady: SteadyResult | undefined;
  let beat: BeatResult | undefined;
  let peer: PeerResult | undefined;
  let backendLoad: BackendLoadResult | undefined;
  let inventory: InventoryResult | undefined;
  let fleet: { agent: FleetResult; fixed: FleetResult } | undefined;
  const noNetns = await netnsUnavailable();
  const attempt = async (section: Section, run: () => Promise<void>) => {
    if (!selected(section)) return;
    // Needs root for the network namespace: elsewhere the report says why it is missing.
    if (noNetns !== undefined && NEEDS_NETNS.includes(section)) {
      failures[section] = `skipped: no network namespace here (${noNetns})`;
      say(`${section}: ${failures[section]}`);
      return;
    }
    say(`${section}: running`);
    try {
      const load = await watchLoad(run);
      if (load) loads[section] = load;
      say(`${section}: done`);
    } catch (error) {
      failures[section] = error instanceof Error ? error.message : String(error);
      say(`${section}: FAILED: ${failures[section]}`);
    }
  };
  try {
    const machine = await describeMachine();
    await attempt("fleet", () => {
      fleet = {
        agent: simulateFleet({ ...FLEET_SCENARIO, policy: "agent" }),
        fixed: simulateFleet({ ...FLEET_SCENARIO, policy: "fixed" }),
      };
      return Promise.resolve();
    });
    await attempt("inventory", async () => {
      inventory = await measureInventory(workDir);
    });
    await attempt("startup", async () => {
      startup = await measureStartup(workDir, pairs);
    });
    await attempt("steady", async () => {
      steady = await measureSteady(workDir, beats);
    });
    await attempt("beat", async () => {
      beat = await measureBeat(workDir, beatSeconds);
    });
    await attempt("peer", async () => {
      peer = await measurePeer(workDir);
    });
    await attempt("backend", async () => {
      backendLoad = await measureBackendLoad(workDir);
    });
    const results: BenchResults = {
      date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      wallSeconds: (performance.now() - started) / 1000,
      machine: { ...machine, loadAfter: await loadAverage() },
      loads,
      startup,
      steady,
      beat,
      peer,
      backendLoad,
      inventory,
      fleet,
      failures,
      svgPath: SVG_PATH,
    };
    const report = renderReport(results);
    if (fullRun && Object.keys(failures).length === 0) {
      await Deno.writeTextFile(join(PROJECT, "BENCHMARKS.md"), report);
      if (fleet) await writeHistogram(fleet);
      // In the project's own style, so that `deno fmt --check` (deno task test) passes.
      await timed(DENO, ["fmt", "-q", "BENCHMARKS.md", ...(fleet ? [SVG_PATH] : [])], {
        cwd: PROJECT,
      });
      say(`wrote BENCHMARKS.md and ${SVG_PATH}`);
    } else {
      console.log(report);
      say("a partial or failed run: BENCHMARKS.md left as it was");
    }
    if (Object.keys(failures).length > 0) Deno.exitCode = 1;
  } finally {
    await Deno.remove(workDir, { recursive: true }).catch(() => {});
    say(`wall time ${fixed((performance.now() - started) / 1000)} s, clean-up included`);
  }
}

async function writeHistogram(fleet: { agent: FleetResult; fixed: FleetResult }): Promise<void> {
  const panel = (title: string, result: FleetResult) => ({
    title: `${title}: peak ${result.peakPerSecond}/s = ${result.peakRatio.toFixed(2)} x the mean`,
    arrivals: result.arrivals,
    steadyRatePerSecond: result.steadyRatePerSecond,
    downSeconds: result.options.downSeconds,
  });
  const o = fleet.agent.options;
  const svg = histogramSvg(
    [
      panel("The agent's rule (full-jitter backoff, interval x U[0.9, 1.1])", fleet.agent),
      panel("Fixed interval, no jitter", fleet.fixed),
    ],
    `Arrivals per second: ${o.agents.toLocaleString("en-US")} agents restarted together, ` +
      `backend down for the first ${o.downSeconds} s, interval ${o.intervalSeconds} s`,
  );
  await Deno.mkdir(join(PROJECT, "docs"), { recursive: true });
  await Deno.writeTextFile(join(PROJECT, SVG_PATH), svg);
}

/** A command's output, or "unknown" when it cannot be run. */
async function text(command: string, args: string[]): Promise<string> {
  try {
    const run = await timed(command, args, { stdout: "piped", stderr: "piped" });
    return decode(run.output.stdout).trim() || decode(run.output.stderr).trim();
  } catch {
    return "unknown";
  }
}

/** The machine, as the report's first table shows it. */
async function describeMachine(): Promise<Machine> {
  const cpuModel = await text("python3", [
    "-c",
    "import re\n" +
    "text = open('/proc/cpuinfo').read()\n" +
    "m = re.search(r'^model name\\s*:\\s*(.*)$', text, re.M)\n" +
    "print(m.group(1) if m else 'unknown')",
  ]);
  const kernel = await text("python3", [
    "-c",
    "import os; u = os.uname(); print(u.sysname, u.release, u.machine)",
  ]);
  const curl = (await text("curl", ["--version"])).split("\n")[0].split(" ").slice(0, 2).join(" ");
  const python = await text("python3", ["--version"]);
  return {
    loadBefore: await loadAverage(),
    loadAfter: "",
    cpuModel,
    cores: navigator.hardwareConcurrency,
    kernel,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    curl,
    python,
  };
}

await main();
