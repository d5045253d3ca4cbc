// bench/inventory.ts: inventory scaling (issue). The agent's readInventory over fixture trees of
// 16, 256 and 4,096 interfaces, each in its own process holding read of that tree only (the shape
// of the shipped permission set), timed inside the process so start-up is left out; beside it, the
// same reads by bench/inventory_floor.py, this machine's file-system floor.
//
// Run as a script, this module is the measured child: `inventory.ts <proc> <sys> <repetitions>`
// prints one JSON line {"interfaces": n, "samplesMs": [...]}.
import { join } from "node:path";
import { loadWatcher } from "../lib/host/mod.ts";
import { writeHostTree } from "../tests/support/hosttree.ts";
import { decode, DENO, fixtureInterfaces, median, PROJECT, timed } from "./support.ts";

const { readInventory } = await loadWatcher();

export interface InventoryRow {
  readonly interfaces: number;
  readonly agentMs: number; // median of the repetitions
  readonly floorMs: number;
  readonly repetitions: number;
}

export interface InventoryResult {
  readonly rows: InventoryRow[];
  /**
   * The 256-interface run again with --allow-all: the same reads without the per-path permission
   * walk that a scoped --allow-read costs (see BENCHMARKS.md).
   */
  readonly allowAllMsAt256: number;
  /** agentMs at 4,096 / agentMs at 256: linear growth is 16, the target is <= 20. */
  readonly growth4096over256: number;
  /** agentMs / floorMs at 4,096: the target is <= 2. */
  readonly ratioToFloorAt4096: number;
}

/** Repetitions per size: enough for a stable median, few enough for the time budget. */
const REPETITIONS: Record<number, number> = { 16: 41, 256: 21, 4096: 11 };
export const INVENTORY_SIZES = [16, 256, 4096] as const;

/** Builds the trees under `workDir` and measures each size. */
export async function measureInventory(workDir: string): Promise<InventoryResult> {
  const rows: InventoryRow[] = [];
  let allowAllMsAt256 = NaN;
  for (const size of INVENTORY_SIZES) {
    const dir = join(workDir, `inventory-${size}`);
    const roots = await writeHostTree(dir, fixtureInterfaces(size), { defaultRoute: "enp1s0" });
    const repetitions = REPETITIONS[size];
    const child = (permission: string) =>
      timed(DENO, [
        "run",
        "-q",
        "--no-prompt",
        permission,
        join(PROJECT, "bench", "inventory.ts"),
        roots.proc,
        roots.sys,
        String(repetitions),
      ], { stdout: "piped", stderr: "piped" });
    const agent = await child(`--allow-read=${dir}`);
    if (size === 256) {
      allowAllMsAt256 = median(parseChild((await child("--allow-all")).output, "-A").samplesMs);
    }
    const floor = await timed("python3", [
      join(PROJECT, "bench", "inventory_floor.py"),
      roots.proc,
      roots.sys,
      String(repetitions),
    ], { stdout: "piped", stderr: "piped" });
    const agentRun = parseChild(agent.output, "inventory.ts");
    const floorRun = parseChild(floor.output, "inventory_floor.py");
    if (agentRun.interfaces !== size || floorRun.interfaces !== size) {
      throw new Error(
        `inventory of ${size}: the agent saw ${agentRun.interfaces}, the floor ${floorRun.interfaces}`,
      );
    }
    rows.push({
      interfaces: size,
      agentMs: median(agentRun.samplesMs),
      floorMs: median(floorRun.samplesMs),
      repetitions,
    });
    // Thousands of small files and links: removed now rather than at the very end.
    await Deno.remove(dir, { recursive: true });
  }
  const at = (size: number) => rows.find((row) => row.interfaces === size)!;
  return {
    rows,
    allowAllMsAt256,
    growth4096over256: at(4096).agentMs / at(256).agentMs,
    ratioToFloorAt4096: at(4096).agentMs / at(4096).floorMs,
  };
}

function parseChild(
  output: Deno.CommandOutput,
  name: string,
): { interfaces: number; samplesMs: number[] } {
  if (!output.success) throw new Error(`${name} failed: ${decode(output.stderr)}`);
  return JSON.parse(decode(output.stdout).trim().split("\n").at(-1)!);
}

if (import.meta.main) {
  const [proc, sys, repetitionsText] = Deno.args;
  const repetitions = Number(repetitionsText);
  const roots = { proc, sys };
  // One untimed pass first: the first read of each file warms the page cache and the JIT alike.
  const warm = await readInventory(roots, [], undefined);
  if (warm.degraded) throw new Error(warm.degraded);
  const samplesMs: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const started = performance.now();
    await readInventory(roots, [], undefined);
    samplesMs.push(performance.now() - started);
  }
  console.log(JSON.stringify({ interfaces: warm.interfaces.length, samplesMs }));
}
