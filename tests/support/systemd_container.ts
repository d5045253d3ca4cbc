// tests/support/systemd_container.ts: systemd 252 as PID 1 of a throwaway container, to start the
// shipped unit for real (systemd is not PID 1 on the test machines). The container is a bubblewrap
// sandbox in which nothing of the host is writable: its / and /etc are tmpfs, /usr, the project and
// the Deno binary read-only binds at fixed paths (CONTAINER_PROJECT, CONTAINER_DENO), /proc/sys and
// /sys read-only (so systemd-sysctl, udev and their kin find nothing to change), its own PID, IPC,
// UTS, cgroup and network namespaces, and a cgroup v2 subtree of its own for systemd to manage.
// systemd boots a target of the test's with no default dependencies, so nothing of sysinit.target
// runs; the units that could touch the machine are masked as well. `await using` kills the
// container and removes its cgroup.
import { join } from "node:path";
import { PROJECT } from "./agent.ts";
import { ownCgroup, removeCgroup } from "./cgroup.ts";
import { topLevelLinks } from "./sandbox_fs.ts";
import { type TempDir, tempDir } from "./tempdir.ts";

const SYSTEMD = "/lib/systemd/systemd";
/** Inside the container: the Deno binary. */
export const CONTAINER_DENO = "/opt/deno/deno";
/**
 * Inside the container: the project, wherever it lives. Under /tmp, /var or /home it could not keep
 * its own path: the container's tmpfs, or the unit's ProtectHome=, would hide it.
 */
export const CONTAINER_PROJECT = "/opt/ravenxcope";
/** Units that touch kernel or devices state, masked whatever pulls them in. */
const MASKED = [
  "systemd-sysctl.service",
  "systemd-udevd.service",
  "systemd-udev-trigger.service",
  "systemd-modules-load.service",
  "systemd-tmpfiles-setup.service",
  "systemd-tmpfiles-setup-dev.service",
  "systemd-remount-fs.service",
  "systemd-binfmt.service",
  "kmod-static-nodes.service",
  "sysinit.target",
];
/** The boot target: the units the test starts are started by hand, with systemctl. */
const TARGET = "[Unit]\nDescription=test boot target\nDefaultDependencies=no\n";

/** A running container: systemctl inside it, and a way to run a command in its network. */
export interface SystemdContainer extends AsyncDisposable {
  /** `systemctl args` inside; returns exit code and output. */
  systemctl(...args: string[]): Promise<{ code: number; out: string }>;
  /** A unit file (or drop-in, `name.d/file.conf`) under /etc/systemd/system, then daemon-reload. */
  writeUnit(name: string, text: string): Promise<void>;
  /** The host path of the container's /etc/ravenxcope (writable, owned by the agent's user). */
  readonly configDir: string;
  /** Argv prefix that runs a command in the container's network namespace only. */
  readonly inNetwork: string[];
  /** Argv prefix that runs a command in the container (its files, network, PIDs), outside any unit. */
  readonly inside: string[];
  /** The host path of a file the units write under /run/test (StandardOutput=file:/run/test/x). */
  output(name: string): Promise<string>;
}

/** Why the container cannot run here, or undefined when it can. */
export async function systemdContainerUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return "needs root on Linux";
  try {
    await Deno.stat(SYSTEMD);
  } catch {
    return `no systemd here (${SYSTEMD})`;
  }
  if (await ownCgroup() === undefined) return "no cgroup v2 tree to make the container's in";
  const bwrap = await new Deno.Command("bwrap", { args: ["--version"] }).output().catch(() => null);
  if (!bwrap?.success) return "bwrap is not installed";
  const nsenter = await new Deno.Command("nsenter", { args: ["--version"] }).output()
    .catch(() => null);
  if (!nsenter?.success) return "nsenter is not installed";
  return undefined;
}

async function waitFor<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined>,
  said: () => Promise<string> = () => Promise.resolve(""),
) {
  const end = performance.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}: ${await said()}`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** How the container is made. */
export interface ContainerOptions {
  /** Shell run as PID 1 before systemd replaces it, in the new network namespace (lo, addresses). */
  readonly setup: string;
  /** The uid (and gid) of the agent's user, ravenxcope, in the container's /etc/passwd. */
  readonly agentUid: number;
  /** Lines for the container's /etc/hosts, after localhost. */
  readonly hosts?: string;
  /** The container's /etc/resolv.conf; by default a local stub at 127.0.0.53. */
  readonly resolvConf?: string;
}

/** Boots the container and waits until systemd answers. */
export async function startSystemdContainer(options: ContainerOptions): Promise<SystemdContainer> {
  const { setup, agentUid } = options;
  const dir: TempDir = await tempDir();
  const parent = await ownCgroup();
  if (parent === undefined) throw new Error("no cgroup v2 tree");
  const cgroup = join(parent, `rxs-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
  let child: Deno.ChildProcess | undefined;
  const cleanUp = async () => {
    if (child !== undefined) {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone already
      }
      await child.status;
    }
    await removeCgroup(cgroup);
    await dir[Symbol.asyncDispose]();
  };
  try {
    const units = dir.join("units");
    await Deno.mkdir(units);
    await Deno.writeTextFile(join(units, "rxs-test.target"), TARGET);
    for (const name of MASKED) await Deno.symlink("/dev/null", join(units, name));
    const etc = dir.join("etc");
    await Deno.mkdir(etc);
    const passwd = await Deno.readTextFile("/etc/passwd");
    const group = await Deno.readTextFile("/etc/group");
    await Deno.writeTextFile(
      join(etc, "passwd"),
      `${passwd}ravenxcope:x:${agentUid}:${agentUid}::/nonexistent:/usr/sbin/nologin\n`,
    );
    await Deno.writeTextFile(join(etc, "group"), `${group}ravenxcope:x:${agentUid}:\n`);
    await Deno.writeTextFile(
      join(etc, "hosts"),
      `127.0.0.1 localhost\n::1 localhost\n${options.hosts ?? ""}`,
    );
    await Deno.writeTextFile(
      join(etc, "resolv.conf"),
      options.resolvConf ?? "nameserver 127.0.0.53\n",
    );
    await Deno.writeTextFile(
      join(etc, "machine-id"),
      crypto.randomUUID().replaceAll("-", "") + "\n",
    );
    await Deno.writeTextFile(join(etc, "hostname"), "unit-test\n");
    await Deno.writeTextFile(
      join(etc, "nsswitch.conf"),
      "passwd: files\ngroup: files\nhosts: files dns\n",
    );
    const configDir = dir.join("ravenxcope");
    await Deno.mkdir(configDir, { mode: 0o700 });
    await Deno.chown(configDir, agentUid, agentUid);
    const runTest = dir.join("run-test");
    await Deno.mkdir(runTest, { mode: 0o777 });
    await Deno.chmod(runTest, 0o777);
    await Deno.mkdir(cgroup);
    const args = [
      ...["--ro-bind", "/usr", "/usr"],
      ...topLevelLinks(),
      ...["--tmpfs", "/etc", "--ro-bind", units, "/etc/systemd/system"],
      ...["passwd", "group", "hosts", "resolv.conf", "machine-id", "hostname", "nsswitch.conf"]
        .flatMap((name) => ["--ro-bind", join(etc, name), `/etc/${name}`]),
      ...["--symlink", "../usr/lib/os-release", "/etc/os-release"],
      ...["--bind", configDir, "/etc/ravenxcope"],
      // Mount points bwrap makes are 0700: the agent's user must pass through them.
      ...[...ancestors(CONTAINER_PROJECT), ...ancestors(CONTAINER_DENO)]
        .flatMap((path) => ["--perms", "0755", "--dir", path]),
      ...["--ro-bind", PROJECT, CONTAINER_PROJECT, "--ro-bind", Deno.execPath(), CONTAINER_DENO],
      ...["--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys"],
      ...["--dev", "/dev", "--ro-bind", "/sys", "/sys", "--bind", cgroup, "/sys/fs/cgroup"],
      ...["--tmpfs", "/run", "--bind", runTest, "/run/test", "--tmpfs", "/tmp", "--tmpfs", "/var"],
      ...["--dir", "/host/proc", "--dir", "/host/sys", "--dir", "/root"],
      ...["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup"],
      ...["--as-pid-1", "--cap-add", "ALL", "--die-with-parent"],
      ...["--setenv", "container", "rxs-test", "--chdir", "/"],
      ...[
        "sh",
        "-c",
        `${setup}\nexec ${SYSTEMD} --system --unit=rxs-test.target`,
      ],
    ];
    // bwrap joins the cgroup before it unshares, so systemd's cgroup root is that subtree.
    const bwrapLog = dir.join("bwrap.log");
    child = new Deno.Command("sh", {
      args: [
        "-c",
        'echo $$ > "$0/cgroup.procs" && log=$1 && shift && exec bwrap "$@" > "$log" 2>&1',
        cgroup,
        bwrapLog,
        ...args,
      ],
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const proc = child;
    const said = () => Deno.readTextFile(bwrapLog).catch(() => "");
    // PID 1 of the container: bwrap's child, once it has become systemd.
    const pid = await waitFor("the container's PID 1", 10_000, async () => {
      const children = await Deno.readTextFile(`/proc/${proc.pid}/task/${proc.pid}/children`)
        .catch(() => "");
      const first = children.trim().split(" ")[0];
      if (first === "") return undefined;
      const comm = await Deno.readTextFile(`/proc/${first}/comm`).catch(() => "");
      return comm.trim() === "systemd" ? Number(first) : undefined;
    }, said);
    const enter = ["nsenter", "-t", String(pid), "-m", "-p", "-n", "-i", "-u", "-C", "--"];
    const run = async (argv: string[]) => {
      const out = await new Deno.Command(argv[0], {
        args: argv.slice(1),
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", SYSTEMD_COLORS: "0" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const decode = (b: Uint8Array) => new TextDecoder().decode(b);
      return { code: out.code, out: decode(out.stdout) + decode(out.stderr) };
    };
    const systemctl = (...args: string[]) => run([...enter, "systemctl", "--no-pager", ...args]);
    await waitFor("systemd to answer", 15_000, async () => {
      const state = await systemctl("is-system-running");
      return /running|degraded|starting/.test(state.out) ? true : undefined;
    }, said);
    return {
      systemctl,
      configDir,
      inNetwork: ["nsenter", "-t", String(pid), "-n", "--"],
      inside: enter,
      async writeUnit(name, text) {
        const path = join(units, name);
        await Deno.mkdir(join(path, ".."), { recursive: true });
        await Deno.writeTextFile(path, text);
        const reload = await systemctl("daemon-reload");
        if (reload.code !== 0) throw new Error(`daemon-reload: ${reload.out}`);
      },
      output: (name) => Deno.readTextFile(join(runTest, name)).catch(() => ""),
      [Symbol.asyncDispose]: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** The directories above `path`, outermost first: /opt, /opt/deno for /opt/deno/deno. */
function ancestors(path: string): string[] {
  const parts = path.split("/").filter((part) => part !== "");
  return parts.slice(0, -1).map((_, i) => "/" + parts.slice(0, i + 1).join("/"));
}
