// tests/support/shipped.ts: the real main.ts (or a probe) under the shipped `-P=agent` set, laid
// out as deployments lay it out: the host's real /proc and /sys bind-mounted read-only at
// /host/proc and /host/sys, and a test directory at /etc/ravenxcope. Each run gets its own
// private mount namespace (`unshare -m`), so nothing is mounted outside it; mount points that did
// not exist are made for the test and removed again (never recursively: they may hold a mount).
import { join } from "node:path";
import { PROJECT } from "./agent.ts";
import { keptEnv } from "./env.ts";
import { finish, unavailable, type WrappedRun } from "./wrapped.ts";

/** The mount points the layout needs on the real file system. */
const MOUNT_POINTS = ["/host", "/host/proc", "/host/sys", "/etc/ravenxcope"];

const LAYOUT = `set -e
mount --bind /proc /host/proc
mount --bind /sys /host/sys
mount -o remount,bind,ro /host/sys
mount --bind "$0" /etc/ravenxcope
exec "$@"`;

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
  ): Deno.Command;
  /** command(), run to its end, its output scanned for tokens. */
  run(
    flags: string[],
    script: string,
    args: string[],
    env?: Record<string, string>,
  ): Promise<WrappedRun>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Why the layout cannot be made here (not root, no unshare), or undefined when it can. */
export async function shippedLayoutUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return "bind mounts need root on Linux";
  return await unavailable("unshare", ["-m", "--propagation", "private", "true"]);
}

/** Makes the mount points and a test directory for /etc/ravenxcope. */
export async function shippedHost(): Promise<ShippedHost> {
  const made: string[] = [];
  for (const path of MOUNT_POINTS) {
    try {
      await Deno.mkdir(path, { mode: 0o755 });
      made.push(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  const etc = await Deno.makeTempDir({ prefix: "sensor-agent-etc-" });
  await Deno.chmod(etc, 0o700);
  const command = (
    flags: string[],
    script: string,
    args: string[],
    env: Record<string, string> = {},
  ) =>
    new Deno.Command("unshare", {
      args: [
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        LAYOUT,
        etc,
        Deno.execPath(),
        "run",
        "-q",
        "--no-prompt",
        ...flags,
        script,
        ...args,
      ],
      cwd: PROJECT,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1", ...keptEnv(), ...env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  return {
    etc,
    command,
    run: (flags, script, args, env) => finish(command(flags, script, args, env).spawn()),
    async [Symbol.asyncDispose]() {
      await Deno.remove(etc, { recursive: true }).catch(() => {});
      for (const path of made.reverse()) await Deno.remove(path).catch(() => {});
    },
  };
}

/** The agent's entry point and the probe of confinement, as paths the runs take. */
export const AGENT_MAIN = join(PROJECT, "main.ts");
export const CONFINEMENT_PROBE = join(PROJECT, "tests", "support", "confinement_probe.ts");
