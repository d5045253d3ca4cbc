// tests/support/shipped.ts: the real main.ts (or a probe) under the shipped `-P=agent` set, laid
// out as deployments lay it out: the host's real /proc and /sys bind-mounted read-only at
// /host/proc and /host/sys, and a test directory at /etc/ravenxcope. Each run gets its own
// private mount namespace (`unshare -m`), so nothing is mounted outside it; mount points that did
// not exist are made for the tests and removed by the last one using them (support/mountpoints.ts).
// A host made with `{ mounts: false }` is a laptop: /host/proc and /host/sys stay empty.
import { join } from "node:path";
import { MAIN, PROJECT } from "./agent.ts";
import { keptEnv } from "./env.ts";
import type { SeenRequest } from "./backend.ts";
import { claimMountPoints } from "./mountpoints.ts";
import { finish, unavailable, type WrappedRun } from "./wrapped.ts";

/** The mount points the layout needs on the real file system. */
const MOUNT_POINTS = ["/host", "/host/proc", "/host/sys", "/etc/ravenxcope"];

const LAYOUT = `set -e
mount --bind /proc /host/proc
mount --bind /sys /host/sys
mount -o remount,bind,ro /host/sys
mount --bind "$0" /etc/ravenxcope
exec "$@"`;

/** The same without the host's procfs and sysfs: the machine of a developer who has not mounted them. */
const LAYOUT_WITHOUT_MOUNTS = `set -e
mount --bind "$0" /etc/ravenxcope
exec "$@"`;

/** How one run is started beyond its flags, script and arguments. */
export interface RunHow {
  /** Run before deno, e.g. setpriv (another uid) or strace; it never widens Deno's permissions. */
  readonly wrapper?: string[];
  /** The working directory, where -P finds deno.json: a readableCopy's for another uid. */
  readonly cwd?: string;
  /** run() kills the run with SIGKILL after this long (a hung agent may not answer SIGTERM). */
  readonly timeoutMs?: number;
}

/** A run that may have been killed for taking longer than RunHow.timeoutMs. */
export interface ShippedRun extends WrappedRun {
  readonly timedOut: boolean;
}

/** The shipped layout for one test; `await using` undoes what it made. */
export interface ShippedHost {
  /** The host directory that the runs see as /etc/ravenxcope. */
  readonly etc: string;
  /** `deno run <flags> <script> args` inside the layout, with a clean environment plus `env`. */
  command(
    flags: string[],
    script: string,
    args: string[],
    env?: Record<string, string>,
    how?: RunHow,
  ): Deno.Command;
  /** command(), run to its end (or its timeout), its output scanned for tokens. */
  run(
    flags: string[],
    script: string,
    args: string[],
    env?: Record<string, string>,
    how?: RunHow,
  ): Promise<ShippedRun>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Why the layout cannot be made here (not root, no unshare), or undefined when it can. */
export async function shippedLayoutUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return "bind mounts need root on Linux";
  return await unavailable("unshare", ["-m", "--propagation", "private", "true"]);
}

/** Makes the mount points and a test directory for /etc/ravenxcope. */
export async function shippedHost(options: { mounts?: boolean } = {}): Promise<ShippedHost> {
  const mountPoints = await claimMountPoints(MOUNT_POINTS);
  const etc = await Deno.makeTempDir({ prefix: "sensor-agent-etc-" });
  await Deno.chmod(etc, 0o700);
  const command = (
    flags: string[],
    script: string,
    args: string[],
    env: Record<string, string> = {},
    how: RunHow = {},
  ) =>
    new Deno.Command("unshare", {
      args: [
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        options.mounts === false ? LAYOUT_WITHOUT_MOUNTS : LAYOUT,
        etc,
        ...how.wrapper ?? [],
        Deno.execPath(),
        "run",
        "-q",
        "--no-prompt",
        ...flags,
        script,
        ...args,
      ],
      cwd: how.cwd ?? PROJECT,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1", ...keptEnv(), ...env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  return {
    etc,
    command,
    async run(flags, script, args, env, how = {}) {
      const child = command(flags, script, args, env, how).spawn();
      let timedOut = false;
      const timer = how.timeoutMs === undefined ? undefined : setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL"); // sh and setpriv exec: the child is deno itself
      }, how.timeoutMs);
      try {
        return { ...await finish(child), timedOut };
      } finally {
        clearTimeout(timer);
      }
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(etc, { recursive: true }).catch(() => {});
      await mountPoints[Symbol.asyncDispose]();
    },
  };
}

/** The agent's entry point and the probe of confinement, as paths the runs take. */
export const AGENT_MAIN = MAIN;
export const CONFINEMENT_PROBE = join(PROJECT, "tests", "support", "confinement_probe.ts");

/**
 * Runs `main.ts run` in `host` until `backend` has seen `beats` heartbeats (15 s at most), then
 * stops it with SIGTERM; its exit code and stderr.
 */
export async function runUntilBeats(
  host: ShippedHost,
  flags: string[],
  backend: { readonly requests: readonly SeenRequest[] },
  beats = 3,
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  const isBeat = (r: SeenRequest) => r.path === "/api/sensors/heartbeat";
  const agent = host.command(flags, AGENT_MAIN, ["run"], env).spawn();
  const output = Promise.all([
    new Response(agent.stdout).text(),
    new Response(agent.stderr).text(),
  ]);
  const deadline = performance.now() + 15_000;
  while (backend.requests.filter(isBeat).length < beats && performance.now() < deadline) {
    await new Promise((done) => setTimeout(done, 50));
  }
  agent.kill("SIGTERM");
  const [status, [, stderr]] = await Promise.all([agent.status, output]);
  return { code: status.code, stderr };
}
