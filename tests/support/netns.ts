// tests/support/netns.ts: throwaway network namespaces for tests that need a real network stack
// (veth pairs, addresses, routes, counters); netns_agent.ts runs the agent inside one. Everything is
// named `rxs-<pid>-<role>` so parallel test runs never collide, and removed even when a test fails:
// deleting a namespace deletes its veths, the peers included.
/** The PATH that finds `ip`, `unshare`, `mount` and `sysctl`, read only when a command runs. */
export function searchPath(): string {
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
