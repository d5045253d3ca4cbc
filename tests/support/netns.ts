// tests/support/netns.ts: throwaway network namespaces for tests that need a real network stack
// (veth pairs, addresses, routes, counters), and a way to run the agent inside one. Everything is
// named `rxs-<pid>-<role>` so parallel test runs never collide, and removed even when a test fails:
// deleting a namespace deletes its veths, the peers included.
import type { NetworkInterface } from "../../lib/host/mod.ts";
import { rootReads } from "./hosttree.ts";
import { type AgentRun, assertNoTokens, MAIN, permissionFlags } from "./agent.ts";
import { keptEnv } from "./env.ts";

/** The PATH that finds `ip`, `unshare`, `mount` and `sysctl`, read only when a command runs. */
function searchPath(): string {
  return Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin";
}

/** Runs a command to completion; rejects with its stderr when it exits non-zero. */
export async function run(command: string[]): Promise<string> {
  const [program, ...args] = command;
  const output = await new Deno.Command(program, {
    args,
    env: { PATH: searchPath() },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(`${command.join(" ")} exited ${output.code}: ${decoder.decode(output.stderr)}`);
  }
  return decoder.decode(output.stdout);
}

/** Whether namespaces can be built here, and if not, the reason a skipped test prints. */
export type NetnsAvailability = { available: true } | { available: false; reason: string };

/** Checks root, `ip netns add` (the probe namespace is deleted again) and `unshare -m` inside one. */
export async function netnsAvailable(): Promise<NetnsAvailability> {
  try {
    if (Deno.build.os !== "linux") return { available: false, reason: "not Linux" };
    if (Deno.uid() !== 0) return { available: false, reason: "not running as root" };
    await using probe = await createNamespace("probe");
    await probe.exec(["unshare", "-m", "--propagation", "private", "true"]);
    return { available: true };
  } catch (error) {
    return { available: false, reason: `network namespaces unavailable: ${error}` };
  }
}

/** A network namespace this test created; `await using` deletes it and every veth in it. */
export interface NetNamespace {
  readonly name: string;
  /** `ip -n <name> <args>`. */
  ip(...args: string[]): Promise<string>;
  /** `ip netns exec <name> <command>`. */
  exec(command: string[]): Promise<string>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates `rxs-<pid>-<role>` with `lo` up and IPv6 off: IPv6 would send router solicitations and
 * DAD probes on its own, and the tests compare byte counters.
 */
export async function createNamespace(role: string): Promise<NetNamespace> {
  const name = `rxs-${Deno.pid}-${role}`;
  await run(["ip", "netns", "add", name]);
  const ns: NetNamespace = {
    name,
    ip: (...args) => run(["ip", "-n", name, ...args]),
    exec: (command) => run(["ip", "netns", "exec", name, ...command]),
    [Symbol.asyncDispose]: () => run(["ip", "netns", "del", name]).then(() => {}),
  };
  try {
    // -e: a kernel built without IPv6 has no such keys, and then nothing to silence.
    await ns.exec([
      "sysctl",
      "-q",
      "-e",
      "-w",
      "net.ipv6.conf.all.disable_ipv6=1",
      "net.ipv6.conf.default.disable_ipv6=1",
    ]);
    await ns.ip("link", "set", "lo", "up");
    return ns;
  } catch (error) {
    await ns[Symbol.asyncDispose]();
    throw error;
  }
}

/** A veth pair `name` in `ns` and `peerName` in `peerNs`, both down; no interface ever visits the host's namespace. */
export async function addVeth(
  ns: NetNamespace,
  name: string,
  peerNs: NetNamespace,
  peerName: string,
): Promise<void> {
  await ns.ip("link", "add", name, "type", "veth", "peer", "name", peerName, "netns", peerNs.name);
}

/** One interface as the kernel reports it over netlink (`ip -j -s link`): independent of the agent's procfs and sysfs reads. */
export interface KernelLink {
  readonly ifindex: number;
  readonly name: string;
  readonly flags: readonly string[]; // e.g. ["LOOPBACK", "UP", "LOWER_UP"]
  readonly rxBytes: number;
  readonly txBytes: number;
}

/** Every interface of `ns` in ifindex order, with its byte counters now. */
export async function kernelLinks(ns: NetNamespace): Promise<KernelLink[]> {
  const links = JSON.parse(await ns.ip("-j", "-s", "link", "show"));
  return links.map((link: Record<string, never>) => ({
    ifindex: link.ifindex,
    name: link.ifname,
    flags: link.flags,
    rxBytes: link.stats64["rx"]["bytes"],
    txBytes: link.stats64["tx"]["bytes"],
  })).sort((a: KernelLink, b: KernelLink) => a.ifindex - b.ifindex);
}

/**
 * Empty `proc` and `sys` mount points for HOST_PROC/HOST_SYS. Deno refuses every path under /proc
 * and /sys without --allow-all, but reads a bind mount of them elsewhere under a scoped
 * --allow-read. The mounts exist only inside the agent's private mount namespace (runAgentIn);
 * removal checks the directories are empty first, so a leaked mount would never be deleted into.
 */
export async function hostRoots(): Promise<
  { path: string; proc: string; sys: string; [Symbol.asyncDispose](): Promise<void> }
> {
  const path = await Deno.makeTempDir({ prefix: "sensor-agent-roots-" });
  const proc = `${path}/proc`;
  const sys = `${path}/sys`;
  await Deno.mkdir(proc);
  await Deno.mkdir(sys);
  return {
    path,
    proc,
    sys,
    [Symbol.asyncDispose]: async () => {
      await Deno.remove(proc); // not recursive: fails on a mount point or a non-empty directory
      await Deno.remove(sys);
      await Deno.remove(path);
    },
  };
}

/** How to run the agent in a namespace: its env (no tokens in argv), scoped permissions, a deadline. */
export interface NamespacedAgentOptions {
  readonly roots: { path: string; proc: string; sys: string };
  readonly env: Record<string, string>;
  readonly read?: string[];
  readonly write?: string[];
  readonly net: string;
  readonly timeoutMs?: number;
}

/**
 * Runs `main.ts args` inside `ns` the way a sensor runs it: its own network stack, the namespace's
 * /proc and /sys bind-mounted at the roots (in a private mount namespace, so the mounts vanish with
 * the process), HOST_PROC/HOST_SYS pointing there, and the test's scoped permission set. `ip netns
 * exec` has already remounted /sys for the namespace; <proc>/net/dev shows the reader's namespace.
 */
export async function runAgentIn(
  ns: NetNamespace,
  args: string[],
  options: NamespacedAgentOptions,
): Promise<AgentRun> {
  const { roots } = options;
  const mountRoots = 'mount --bind /proc "$1/proc" && mount --bind /sys "$1/sys" && shift && ' +
    'exec "$@"';
  const flags = permissionFlags({
    read: [...rootReads(roots), ...(options.read ?? [])],
    write: options.write,
    net: options.net,
  });
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs ?? 60_000);
  try {
    const output = await new Deno.Command("ip", {
      args: [
        ...["netns", "exec", ns.name, "unshare", "-m", "--propagation", "private"],
        ...["sh", "-c", mountRoots, "sh", roots.path],
        ...[Deno.execPath(), "run", "-q", "--no-prompt", ...flags, MAIN, ...args],
      ],
      env: {
        PATH: searchPath(),
        NO_COLOR: "1",
        ...keptEnv(),
        HOST_PROC: roots.proc,
        HOST_SYS: roots.sys,
        ...options.env,
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: deadline.signal,
    }).output();
    const agentRun = {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
    assertNoTokens(agentRun.stdout + agentRun.stderr);
    return agentRun;
  } finally {
    clearTimeout(timer);
  }
}

/** A watcher living in a namespace: each beat() reads its inventory once more. */
export interface NamespacedWatcher {
  beat(): Promise<{ interfaces: NetworkInterface[]; degraded?: string }>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts tests/support/watch_probe.ts inside `ns` with the namespace's /proc and /sys bind-mounted
 * at the roots (as runAgentIn does), holding read of exactly what the shipped set grants there:
 * <proc>/net/dev, <proc>/net/route and <sys>/class/net.
 */
export function watchIn(
  ns: NetNamespace,
  roots: { path: string; proc: string; sys: string },
): NamespacedWatcher {
  const mountRoots = 'mount --bind /proc "$1/proc" && mount --bind /sys "$1/sys" && shift && ' +
    'exec "$@"';
  const probe = new URL("./watch_probe.ts", import.meta.url).pathname;
  const lib = new URL("../../lib", import.meta.url).pathname;
  const read = rootReads(roots);
  const child = new Deno.Command("ip", {
    args: [
      ...["netns", "exec", ns.name, "unshare", "-m", "--propagation", "private"],
      ...["sh", "-c", mountRoots, "sh", roots.path],
      ...[Deno.execPath(), "run", "-q", "--no-prompt", `--allow-read=${[...read, lib, probe]}`],
      ...[probe, roots.proc, roots.sys],
    ],
    env: { PATH: searchPath() },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  return {
    async beat() {
      await writer.write(new TextEncoder().encode("\n"));
      while (!pending.includes("\n")) {
        const { value, done } = await lines.read();
        if (done) throw new Error("the watch probe exited");
        pending += value;
      }
      const end = pending.indexOf("\n");
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      return JSON.parse(line);
    },
    async [Symbol.asyncDispose]() {
      await writer.close().catch(() => {});
      await lines.cancel().catch(() => {});
      await child.status;
    },
  };
}
