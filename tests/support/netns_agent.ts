// tests/support/netns_agent.ts: the agent, and an interface watcher, run inside a network
// namespace of netns.ts the way a sensor runs: its own network stack, the namespace's /proc and
// /sys bind-mounted at the roots in a private mount namespace, and the test's scoped permissions.
import type { NetworkInterface } from "../../lib/host/mod.ts";
import { type AgentRun, assertNoTokens, MAIN, permissionFlags } from "./agent.ts";
import { keptEnv } from "./env.ts";
import { rootReads } from "./hosttree.ts";
import { type NetNamespace, searchPath } from "./netns.ts";

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
