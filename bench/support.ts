// bench/support.ts: what every benchmark shares: the project's paths, the agent's permission set as
// flags (deno.json's `agent` set with scratch paths in place of the system ones), the backend
// process, fixture hosts, and small statistics.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBundle, taskCommand } from "../tests/support/bundle.ts";
import type { FakeInterface } from "../tests/support/hosttree.ts";

export const PROJECT = dirname(dirname(fileURLToPath(import.meta.url)));
/** By name, so that the task's `--allow-run=deno` covers it (Deno.execPath() may be a link's target). */
export const DENO = "deno";

/**
 * The agent as it ships, built afresh into `dir`: the one-file bundle of main.ts and lib/ that
 * `deno task build` writes and `deno task compile` embeds. Returns its path.
 */
export function agentBundle(dir: string): Promise<string> {
  return buildBundle(dir, DENO);
}

/** Where one agent's files live in a benchmark: the stand-ins for the shipped set's paths. */
export interface AgentPlaces {
  /** Stands in for /etc/ravenxcope: the config and its lock (read and write). */
  readonly configDir: string;
  /** Stand in for /host/proc and /host/sys (docs/protocol.md, Interfaces). */
  readonly proc: string;
  readonly sys: string;
  /** Stands in for /host-hostname, /host-os-release and /host-machine-id. */
  readonly identityDir: string;
}

type Grant = string[] | boolean | undefined;
interface PermissionSet {
  read?: Grant;
  write?: Grant;
  env?: Grant;
  sys?: Grant;
  net?: Grant | { allow?: Grant; deny?: string[] };
}

let project: { permissions: { agent: PermissionSet } } | undefined;

/** deno.json, read once: the agent's permission set. */
async function shipped(): Promise<NonNullable<typeof project>> {
  project ??= JSON.parse(await Deno.readTextFile(join(PROJECT, "deno.json")));
  return project!;
}

/**
 * The `--v8-flags=` argument for an agent run: whatever the shipped `start` task passes
 * (deno.json), plus `extra`, or nothing when both are empty. The bench measures the agent as it is
 * started.
 */
export async function v8Flags(extra: string[] = []): Promise<string[]> {
  const match = /--v8-flags=(\S+)/.exec(await taskCommand("start"));
  const all = [...(match ? match[1].split(",") : []), ...extra];
  return all.length === 0 ? [] : [`--v8-flags=${all.join(",")}`];
}

/**
 * deno.json's `agent` permission set as flags, each shipped path replaced by its stand-in, and the
 * network narrowed to loopback (the bench's only host). The shape stays the shipped one: scoped
 * read, write only of the config directory, the contract's env keys, hostname and interfaces.
 */
export async function agentFlags(places: AgentPlaces): Promise<string[]> {
  const set = (await shipped()).permissions.agent;
  const standIn: Record<string, string> = {
    "/etc/ravenxcope": places.configDir,
    "/host/proc": places.proc,
    "/host/sys": places.sys,
    "/host-hostname": join(places.identityDir, "hostname"),
    "/host-os-release": join(places.identityDir, "os-release"),
    "/host-machine-id": join(places.identityDir, "machine-id"),
  };
  const flag = (name: string, grant: Grant, mapPaths: boolean) => {
    if (grant === undefined || grant === false) return [];
    if (grant === true) return [`--allow-${name}`];
    const values = mapPaths ? grant.map((path) => standInFor(path, standIn)) : grant;
    return [`--allow-${name}=${values.join(",")}`];
  };
  return [
    ...flag("read", set.read, true),
    ...flag("write", set.write, true),
    ...flag("env", set.env, false),
    ...flag("sys", set.sys, false),
    "--allow-net=127.0.0.1",
    ...netDenied(set.net),
  ];
}

/** The set's net deny list as a flag: the bench runs with the shipped refusals too. */
function netDenied(net: PermissionSet["net"]): string[] {
  const deny = typeof net === "object" && !Array.isArray(net) ? net.deny ?? [] : [];
  return deny.length === 0 ? [] : [`--deny-net=${deny.join(",")}`];
}

/** `path` with its shipped prefix (/host/proc in /host/proc/net/dev) replaced by the stand-in. */
function standInFor(path: string, standIn: Record<string, string>): string {
  for (const [shipped, local] of Object.entries(standIn)) {
    if (path === shipped) return local;
    if (path.startsWith(shipped + "/")) return local + path.slice(shipped.length);
  }
  return path;
}

/** The environment that points the agent at its stand-in paths (container layout, section 5). */
export function agentEnv(places: AgentPlaces): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    NO_COLOR: "1",
    HOST_PROC: places.proc,
    HOST_SYS: places.sys,
    HOST_HOSTNAME_FILE: join(places.identityDir, "hostname"),
    HOST_OS_RELEASE_FILE: join(places.identityDir, "os-release"),
    HOST_MACHINE_ID_FILE: join(places.identityDir, "machine-id"),
  };
}

/**
 * An agent's places under `base` on the host whose procfs and sysfs are at `roots`: its config
 * directory (made, 0700, empty) and its identity files (written).
 */
export async function agentPlaces(
  base: string,
  roots: { readonly proc: string; readonly sys: string },
): Promise<AgentPlaces> {
  const places = {
    configDir: join(base, "etc"),
    proc: roots.proc,
    sys: roots.sys,
    identityDir: join(base, "identity"),
  };
  await writeIdentityFiles(places.identityDir);
  await Deno.mkdir(places.configDir, { recursive: true, mode: 0o700 });
  return places;
}

/** The machine id of the bench's host (writeIdentityFiles). */
export const MACHINE_ID = "0123456789abcdef0123456789abcdef";

/** Writes the identity files a container deployment bind-mounts (section 3). */
export async function writeIdentityFiles(identityDir: string): Promise<void> {
  await Deno.mkdir(identityDir, { recursive: true });
  await Deno.writeTextFile(join(identityDir, "hostname"), "bench-sensor-01\n");
  await Deno.writeTextFile(
    join(identityDir, "os-release"),
    'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
  );
  await Deno.writeTextFile(join(identityDir, "machine-id"), `${MACHINE_ID}\n`);
}

/**
 * `count` interfaces like a busy sensor's: lo, then physical ports and virtual ones (veths of
 * containers), a wireless one among them, with counters large enough to be realistic.
 */
export function fixtureInterfaces(count: number): FakeInterface[] {
  const interfaces: FakeInterface[] = [];
  for (let i = 0; i < count; i++) {
    const ifindex = i + 1;
    if (i === 0) {
      interfaces.push({
        name: "lo",
        ifindex,
        up: true,
        loopback: true,
        virtual: true,
        bytesRecv: 81_234_567,
        bytesSent: 81_234_567,
      });
      continue;
    }
    // The wireless one has a bus device, as every radio does: a veth is never wireless.
    const wireless = i === 2;
    const physical = i % 8 === 1 || wireless;
    interfaces.push({
      name: wireless
        ? `wlp${i}s0`
        : physical
        ? `enp${i}s0`
        : `veth${i.toString(16).padStart(6, "0")}`,
      ifindex,
      up: i % 5 !== 0,
      virtual: !physical,
      wireless,
      bytesRecv: 1_000_000_000 + i * 7_919,
      bytesSent: 500_000_000 + i * 104_729,
    });
  }
  return interfaces;
}

/** A backend process (bench/backend.ts) on a free loopback port. */
export interface BenchBackend {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts bench/backend.ts in its own process and waits for its port; it dies with its stdin.
 * `netns` starts it inside that network namespace (its 127.0.0.1); `interval` is the heartbeat
 * interval its replies ask for (30 s unless given).
 */
export async function startBenchBackend(
  lifetimeSeconds: number,
  options: { netns?: string; interval?: number } = {},
): Promise<BenchBackend> {
  const args = [
    "run",
    "-q",
    "--allow-net=127.0.0.1",
    join(PROJECT, "bench", "backend.ts"),
    "--lifetime",
    String(lifetimeSeconds),
    "--interval",
    String(options.interval ?? 30),
  ];
  const inNetns = options.netns === undefined ? [] : ["netns", "exec", options.netns, DENO];
  const child = new Deno.Command(options.netns === undefined ? DENO : "ip", {
    args: [...inNetns, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tooLate = new Promise<undefined>((done) =>
    timer = setTimeout(() => done(undefined), 15_000)
  );
  try {
    // Bounded: a backend that prints nothing for 15 s is given up on.
    for (let reads = 0; !/port \d+\n/.test(text) && reads < 100; reads++) {
      const next = await Promise.race([lines.read(), tooLate]);
      if (next === undefined || next.done) break;
      text += next.value;
    }
  } finally {
    clearTimeout(timer);
    await lines.cancel().catch(() => {}); // nothing more is printed; let the pipe go
  }
  if (!/port \d+\n/.test(text)) {
    child.kill();
    await child.status;
    throw new Error("the bench backend did not start");
  }
  const port = Number(/port (\d+)/.exec(text)![1]);
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await child.stdin.close().catch(() => {});
      await child.status;
    },
  };
}

/** Runs a command to its end; returns its output and wall time in ms from spawn to exit. */
export async function timed(
  command: string,
  args: string[],
  options: Omit<Deno.CommandOptions, "args"> = {},
): Promise<{ ms: number; output: Deno.CommandOutput }> {
  const started = performance.now();
  const output = await new Deno.Command(command, { stdin: "null", ...options, args }).output();
  return { ms: performance.now() - started, output };
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Text of bytes. */
export function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** A number with a fixed count of decimals, for tables. */
export function fixed(value: number, digits = 1): string {
  return value.toFixed(digits);
}
