// tests/support/sandbox.ts: runs deploy/install.sh for real, as root, inside a bubblewrap sandbox
// that cannot touch the host. The sandbox's / is bwrap's own tmpfs; /usr and the /bin, /lib links
// come read-only from the host; /etc, /usr/local/bin and /state are writable temp dirs of the test;
// /run, /var and /tmp are empty tmpfs, so systemd looks absent unless a test asks for a fake one.
// No user namespace (useradd must really chown), but its own PID, IPC, UTS and, unless a test
// serves a binary on 127.0.0.1, network namespace. `await using` removes every temp dir.
import { join } from "node:path";
import { assertNoTokens } from "./agent.ts";
import { bwrapArgs, fillEtc, INSTALL_SH } from "./sandbox_fs.ts";

export { INSTALL_SH };

const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Sandbox path prefix -> directory under the test's temp dir. */
const MOUNTS: ReadonlyArray<readonly [string, string]> = [
  ["/etc", "etc"],
  ["/usr/local/bin", "bin"],
  ["/files", "files"],
  ["/state", "state"],
  ["/fakebin", "fakebin"],
  ["/installer", "installer"],
];

/** A unit file for the tests; the real deploy/sensor-agent.service is not this test's subject. */
export const TEST_UNIT = `[Unit]
Description=RavenXcope sensor agent (test unit)

[Service]
User=ravenxcope
ExecStart=/usr/local/bin/sensor-agent run
`;

/** A stand-in for systemctl that logs each call to /state/systemctl.log and keeps "active" state. */
const FAKE_SYSTEMCTL = `#!/bin/sh
echo "$*" >> /state/systemctl.log
args=" $* "
case "$args" in
  *" is-active "*) if [ -e /state/active ]; then exit 0; else exit 3; fi ;;
  *" restart "*) touch /state/active ;;
  *" enable "*) case "$args" in *" --now "*) touch /state/active ;; esac ;;
  *" disable "*) case "$args" in *" --now "*) rm -f /state/active ;; esac ;;
  *" cat "*) [ -e /etc/systemd/system/sensor-agent.service ] || exit 1 ;;
esac
exit 0
`;

/** A stand-in for the agent binary: prints `sensor-agent 2.0.0` for --version; `marker` makes it unique. */
export function fakeAgent(marker: string, version = "2.0.0"): string {
  return `#!/bin/sh
# fake sensor-agent ${marker}
if [ "$1" = --version ]; then echo "sensor-agent ${version}"; fi
exit 0
`;
}

/** What one run of the installer printed and how it ended. */
export interface InstallRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How a run is set up. */
export interface RunOptions {
  /** Environment of the script (INSTALL_TOKEN goes here, never into an argument). */
  readonly env?: Record<string, string>;
  /** Share the host's network (for a download from 127.0.0.1); otherwise there is none. */
  readonly loopback?: boolean;
  readonly stdin?: "null" | "piped";
}

/** A throwaway machine for the installer. */
export interface Sandbox {
  readonly path: string;
  /** The host path of a sandbox path under /etc, /usr/local/bin, /files, /state or /installer. */
  host(sandboxPath: string): string;
  /** Writes a file the script can read under /files. */
  addFile(name: string, content: string, mode?: number): Promise<string>;
  /** Makes /run/systemd/system exist and systemctl a logging fake (see FAKE_SYSTEMCTL). */
  systemd: boolean;
  /** The systemctl calls so far, one per line. */
  systemctlCalls(): Promise<string[]>;
  /** The bwrap command running `command` inside the sandbox. */
  command(command: string[], options?: RunOptions): Deno.Command;
  /** Runs `bash /installer/install.sh args` to the end; fails the test if a used token leaks. */
  install(args: string[], options?: RunOptions): Promise<InstallRun>;
  /** The passwd entry of `name` in the sandbox's /etc, if any. */
  user(
    name: string,
  ): Promise<{ uid: number; gid: number; home: string; shell: string } | undefined>;
  /** The gid of group `name` in the sandbox's /etc, if any. */
  group(name: string): Promise<number | undefined>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Why the sandbox cannot run here, or undefined when it can. */
export async function sandboxUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not running as root (useradd and chown need it)";
  for (
    const [path, what] of [["/usr/local/bin", "a /usr/local/bin"], ["/usr/sbin/useradd", "useradd"]]
  ) {
    try {
      await Deno.stat(path);
    } catch {
      return `this host has no ${what}`;
    }
  }
  try {
    await using sandbox = await createSandbox();
    const output = await sandbox.command(["true"]).output();
    if (!output.success) return `bwrap fails: ${new TextDecoder().decode(output.stderr).trim()}`;
    return undefined;
  } catch (error) {
    return `bubblewrap (bwrap) is not usable: ${error}`;
  }
}

/** A fresh sandbox: root-only passwd and group, the host's login.defs, an empty /usr/local/bin. */
export async function createSandbox(): Promise<Sandbox> {
  const path = await Deno.makeTempDir({ prefix: "sensor-agent-install-" });
  try {
    for (const [, dir] of MOUNTS) await Deno.mkdir(join(path, dir), { mode: 0o755 });
    await Deno.chmod(join(path, "etc"), 0o755);
    await fillEtc(join(path, "etc"));
    await Deno.writeTextFile(join(path, "installer", "sensor-agent.service"), TEST_UNIT);
    // The mount point of the real script, bound over it read-only.
    await Deno.writeTextFile(join(path, "installer", "install.sh"), "");
    await Deno.writeTextFile(join(path, "fakebin", "systemctl"), FAKE_SYSTEMCTL, { mode: 0o755 });
    await Deno.chmod(join(path, "fakebin", "systemctl"), 0o755);
  } catch (error) {
    await Deno.remove(path, { recursive: true }).catch(() => {});
    throw error;
  }
  const host = (sandboxPath: string): string => {
    for (const [prefix, dir] of MOUNTS) {
      if (sandboxPath === prefix || sandboxPath.startsWith(`${prefix}/`)) {
        return join(path, dir, sandboxPath.slice(prefix.length));
      }
    }
    throw new Error(`${sandboxPath} is not under a writable mount of the sandbox`);
  };
  const sandbox: Sandbox = {
    path,
    host,
    systemd: false,
    async addFile(name, content, mode = 0o644) {
      await Deno.writeTextFile(host(`/files/${name}`), content, { mode });
      await Deno.chmod(host(`/files/${name}`), mode);
      return `/files/${name}`;
    },
    async systemctlCalls() {
      try {
        return (await Deno.readTextFile(host("/state/systemctl.log"))).split("\n").filter((l) =>
          l !== ""
        );
      } catch {
        return [];
      }
    },
    command(command, options = {}) {
      return new Deno.Command("bwrap", {
        args: [...bwrapArgs(path, sandbox.systemd, options.loopback ?? false), ...command],
        // The environment, not bwrap's argv, carries INSTALL_TOKEN into the sandbox.
        env: { PATH: HOST_PATH, ...options.env },
        clearEnv: true,
        stdin: options.stdin ?? "null",
        stdout: "piped",
        stderr: "piped",
      });
    },
    async install(args, options = {}) {
      const output = await sandbox.command(["bash", "/installer/install.sh", ...args], options)
        .output();
      const run = {
        code: output.code,
        stdout: new TextDecoder().decode(output.stdout),
        stderr: new TextDecoder().decode(output.stderr),
      };
      assertNoTokens(run.stdout + run.stderr);
      return run;
    },
    async user(name) {
      const line = (await Deno.readTextFile(host("/etc/passwd"))).split("\n")
        .find((l) => l.startsWith(`${name}:`));
      if (line === undefined) return undefined;
      const [, , uid, gid, , home, shell] = line.split(":");
      return { uid: Number(uid), gid: Number(gid), home, shell };
    },
    async group(name) {
      const line = (await Deno.readTextFile(host("/etc/group"))).split("\n")
        .find((l) => l.startsWith(`${name}:`));
      return line === undefined ? undefined : Number(line.split(":")[2]);
    },
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
  return sandbox;
}
