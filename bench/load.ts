// bench/load.ts: how busy the machine was while a section ran, so that a figure measured beside
// other work says so: the 1-minute load average before and after, and the CPU time that processes
// outside the bench used meanwhile (their own and that of the children they reaped), by name.
// Kernel threads are left out: the block layer's workers do the bench's own I/O as much as anyone's.
// /proc is read by Python: Deno refuses it short of --allow-all.
import { decode, timed } from "./support.ts";

/** What other processes did during one section. */
export interface SectionLoad {
  readonly loadBefore: string;
  readonly loadAfter: string;
  readonly wallSeconds: number;
  /** CPU seconds used by processes that are not the bench's, and the busiest of them. */
  readonly otherCpuSeconds: number;
  readonly busiest: { readonly name: string; readonly cpuSeconds: number }[];
}

/** One look at the machine. */
interface Snapshot {
  readonly load: string;
  readonly at: number;
  /** pid: [name, CPU seconds so far, its reaped children's included], for processes not ours. */
  readonly others: Record<string, [string, number]>;
}

// Every process whose parent chain does not lead to the bench (argv[1]), with its CPU so far.
const SNAPSHOT = `import os, sys, json
me = int(sys.argv[1]); hz = os.sysconf('SC_CLK_TCK'); parents = {}; cpu = {}
for pid in filter(str.isdigit, os.listdir('/proc')):
    try: s = open(f'/proc/{pid}/stat').read()
    except OSError: continue
    f = s[s.rindex(')') + 2:].split()
    if pid == '2' or f[1] == '2': continue  # kernel threads: they work for every process
    parents[int(pid)] = int(f[1])
    cpu[pid] = [s[s.index('(') + 1:s.rindex(')')], sum(map(int, f[11:15])) / hz]
def ours(pid):
    for _ in range(64):
        if pid == me: return True
        if pid <= 1: return False
        pid = parents.get(pid, 1)
    return False
print(json.dumps({'load': open('/proc/loadavg').read().split()[0],
                  'others': {p: v for p, v in cpu.items() if not ours(int(p))}}))`;

async function snapshot(): Promise<Snapshot | undefined> {
  try {
    const run = await timed("python3", ["-c", SNAPSHOT, String(Deno.pid)], { stdout: "piped" });
    if (!run.output.success) return undefined;
    return { ...JSON.parse(decode(run.output.stdout)), at: performance.now() };
  } catch {
    return undefined; // no python3: the report says the load is unknown
  }
}

/** The 1-minute load average now, or "unknown". */
export async function loadAverage(): Promise<string> {
  return (await snapshot())?.load ?? "unknown";
}

/** Runs `section` and returns what else the machine did meanwhile (undefined if unknowable). */
export async function watchLoad(
  section: () => Promise<void>,
): Promise<SectionLoad | undefined> {
  const before = await snapshot();
  await section();
  const after = await snapshot();
  if (before === undefined || after === undefined) return undefined;
  const byName = new Map<string, number>();
  for (const [pid, [name, cpu]] of Object.entries(after.others)) {
    const used = cpu - (before.others[pid]?.[1] ?? 0); // a process new since: all of its CPU
    if (used > 0) byName.set(name, (byName.get(name) ?? 0) + used);
  }
  const busiest = [...byName].map(([name, cpuSeconds]) => ({ name, cpuSeconds }))
    .sort((a, b) => b.cpuSeconds - a.cpuSeconds);
  return {
    loadBefore: before.load,
    loadAfter: after.load,
    wallSeconds: (after.at - before.at) / 1000,
    otherCpuSeconds: busiest.reduce((sum, p) => sum + p.cpuSeconds, 0),
    busiest: busiest.slice(0, 3),
  };
}
