// bench/netns.ts: the bench's real host: a network namespace of 65 interfaces (lo, 31 veth pairs,
// two ifb: this kernel has no `dummy`), its procfs and sysfs bind-mounted at scratch roots inside a
// private mount namespace of each measured process, as deployments mount the host's at /host/*.
// Everything it creates is deleted again by dispose, the namespace with its interfaces.
import { join } from "node:path";
import { timed } from "./support.ts";

/** Interfaces in the bench namespace, lo included: issue 24's 65. */
export const NETNS_INTERFACES = 65;
/** Of which ifb devices: what is left over after lo and the veth pairs. */
const IFB_DEVICES = 2;
/** What the namespace holds, as the report says it. */
export const NETNS_DESCRIPTION = `lo, ${(NETNS_INTERFACES - 1 - IFB_DEVICES) / 2} veth pairs and ` +
  `${IFB_DEVICES} ifb devices`;

/** The namespace, the roots where each process sees it, and how to run a command there. */
export interface BenchNamespace extends AsyncDisposable {
  readonly name: string;
  /** Empty directories proc/ and sys/ under one scratch path: the mount points. */
  readonly roots: { readonly path: string; readonly proc: string; readonly sys: string };
  /** `ip netns exec` + a private mount namespace with the roots mounted, then `command`. */
  argv(command: string[]): string[];
}

async function ip(...args: string[]): Promise<void> {
  const run = await timed("ip", args, { stdout: "null", stderr: "piped" });
  if (!run.output.success) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(run.output.stderr)}`);
  }
}

/** Why the namespace cannot be built here, or undefined when it can (root, ip, unshare). */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not root";
  try {
    const probe = await timed("unshare", ["-m", "--propagation", "private", "true"]);
    return probe.output.success ? undefined : "unshare -m fails";
  } catch (error) {
    return `unshare cannot run: ${error}`;
  }
}

/** Builds the namespace under `workDir`; half the veths up, so the flags differ. */
export async function createBenchNamespace(workDir: string): Promise<BenchNamespace> {
  const name = `rxb-${Deno.pid}`;
  const path = join(workDir, "netns-roots");
  await Deno.mkdir(join(path, "proc"), { recursive: true });
  await Deno.mkdir(join(path, "sys"), { recursive: true });
  await ip("netns", "add", name);
  const dispose = async () => {
    await ip("netns", "del", name).catch(() => {});
    // Not recursive: a leaked mount would otherwise be deleted into.
    for (const dir of ["proc", "sys", ""]) await Deno.remove(join(path, dir)).catch(() => {});
  };
  try {
    const batch = ["link set lo up"];
    for (let i = 0; i < (NETNS_INTERFACES - 1 - IFB_DEVICES) / 2; i++) {
      batch.push(`link add veth${i}a type veth peer name veth${i}b`);
      if (i % 2 === 0) batch.push(`link set veth${i}a up`, `link set veth${i}b up`);
    }
    for (let i = 0; i < IFB_DEVICES; i++) batch.push(`link add ifb${i} type ifb`);
    const file = join(workDir, "netns.batch");
    await Deno.writeTextFile(file, batch.join("\n") + "\n");
    await ip("-n", name, "-batch", file);
  } catch (error) {
    await dispose();
    throw error;
  }
  const mount = 'mount --bind /proc "$1/proc" && mount --bind /sys "$1/sys" && shift && exec "$@"';
  return {
    name,
    roots: { path, proc: join(path, "proc"), sys: join(path, "sys") },
    argv: (command) => [
      ...["netns", "exec", name, "unshare", "-m", "--propagation", "private"],
      ...["sh", "-c", mount, "sh", path, ...command],
    ],
    [Symbol.asyncDispose]: dispose,
  };
}

/**
 * CPU time of a live process so far, in ms, all threads: the sum of
 * /proc/<pid>/task/<tid>/schedstat (ns). Read by Python: Deno refuses /proc short of --allow-all.
 */
export async function processCpuMs(pid: number): Promise<number> {
  const script = "import os,sys\np=sys.argv[1]\nt=0\n" +
    "for tid in os.listdir(f'/proc/{p}/task'):\n" +
    "  try: t+=int(open(f'/proc/{p}/task/{tid}/schedstat').read().split()[0])\n" +
    "  except OSError: pass\nprint(t)";
  const run = await timed("python3", ["-c", script, String(pid)], { stdout: "piped" });
  if (!run.output.success) throw new Error(`cannot read the CPU time of ${pid}`);
  return Number(new TextDecoder().decode(run.output.stdout).trim()) / 1e6;
}

/** utime + stime of /proc/<pid>/stat in ms (clock ticks of 10 ms): the brief's measure. */
export async function statCpuMs(pid: number): Promise<number> {
  const script = "import os,sys\ns=open(f'/proc/{sys.argv[1]}/stat').read()\n" +
    "f=s[s.rindex(')')+2:].split()\nhz=os.sysconf('SC_CLK_TCK')\n" +
    "print((int(f[11])+int(f[12]))*1000/hz)";
  const run = await timed("python3", ["-c", script, String(pid)], { stdout: "piped" });
  if (!run.output.success) throw new Error(`cannot read /proc/${pid}/stat`);
  return Number(new TextDecoder().decode(run.output.stdout).trim());
}

/** VmHWM of a live process, KiB. */
export async function peakRssKiB(pid: number): Promise<number> {
  const run = await timed("python3", [
    "-c",
    "import sys,re\nprint(re.search(r'VmHWM:\\s*(\\d+)', open(f'/proc/{sys.argv[1]}/status').read()).group(1))",
    String(pid),
  ], { stdout: "piped" });
  return Number(new TextDecoder().decode(run.output.stdout).trim());
}
