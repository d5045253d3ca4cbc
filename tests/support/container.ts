// tests/support/container.ts: the container image's layout, made with bubblewrap instead of Docker
// (no engine here): read-only root, uid/gid 65532 (distroless "nonroot"), no capabilities, the
// host's network, and the bind mounts and environment of deploy/compose.yaml. The agent inside is
// `deno run -P=agent main.ts`, the closest thing to the compiled binary this machine can build.
import { PROJECT } from "./agent.ts";
import { denoCacheDir } from "./env.ts";

/** The uid and gid of distroless's nonroot user. */
export const NONROOT = 65532;

/** True when bwrap is installed and can make a user namespace here. */
export async function bwrapAvailable(): Promise<string | undefined> {
  try {
    const probe = await new Deno.Command("bwrap", {
      args: ["--ro-bind", "/", "/", "--unshare-user", "--uid", `${NONROOT}`, "true"],
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.success ? undefined : "bwrap cannot create a user namespace here";
  } catch {
    return "bwrap is not installed (apt-get install bubblewrap)";
  }
}

/** Where the deno binary and its cache live on the host, bound read-only into the sandbox. */
function denoPaths(): { binary: string; cache: string | undefined } {
  return { binary: Deno.realPathSync(Deno.execPath()), cache: denoCacheDir() };
}

/** The machine's CA settings that name a file: passed in, with the file bound at the same path. */
const CA_FILE_VARIABLES = ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "DENO_CERT"];

/** Binds and variables that give the sandbox the machine's trust settings, where they are set. */
function trustSettings(): { binds: string[]; environment: string[] } {
  const binds: string[] = [];
  const environment: string[] = [];
  for (const name of [...CA_FILE_VARIABLES, "DENO_TLS_CA_STORE"]) {
    const value = Deno.env.get(name);
    if (!value) continue;
    if (CA_FILE_VARIABLES.includes(name)) binds.push("--ro-bind-try", value, value);
    environment.push("--setenv", name, value);
  }
  return { binds, environment };
}

/**
 * The bwrap arguments for the container layout. `configDir` becomes /etc/ravenxcope (the only
 * writable path); `env` is the container's environment, as compose.yaml sets it.
 */
export function containerArgs(
  configDir: string,
  env: Record<string, string>,
  command: string[],
  extraBinds: string[] = [], // e.g. a secret: ["--ro-bind", source, target]
): string[] {
  const deno = denoPaths();
  // deno-fmt-ignore: one bind (flag, source, target) per line reads like compose.yaml
  const binds: string[] = [
    "--tmpfs", "/",
    "--ro-bind", "/usr", "/usr",
    "--symlink", "usr/lib", "/lib",
    "--symlink", "usr/lib64", "/lib64",
    "--symlink", "usr/bin", "/bin",
    "--ro-bind", "/etc/os-release", "/etc/os-release",
    "--ro-bind", "/etc/passwd", "/etc/passwd", // distroless ships passwd and group
    "--ro-bind", "/etc/group", "/etc/group",
    "--dir", "/tmp",
    "--proc", "/proc",
    "--dev", "/dev",
    // compose.yaml's volumes:
    "--bind", configDir, "/etc/ravenxcope",
    "--ro-bind", "/etc/hostname", "/host-hostname",
    "--ro-bind", "/etc/os-release", "/host-os-release",
    "--ro-bind-try", "/etc/machine-id", "/host-machine-id",
    "--ro-bind", "/proc", "/host/proc",
    "--ro-bind", "/sys", "/host/sys",
    // the program: the project and deno, standing in for the compiled /usr/local/bin/sensor-agent
    "--ro-bind", PROJECT, "/app",
    "--ro-bind", deno.binary, DENO_IN_CONTAINER,
    ...(deno.cache ? ["--ro-bind-try", deno.cache, "/deno-dir"] : []),
  ];
  const trust = trustSettings();
  // deno-fmt-ignore
  const identity = [
    "--unshare-user", "--uid", `${NONROOT}`, "--gid", `${NONROOT}`,
    "--unshare-pid", "--unshare-ipc", "--unshare-uts",
    "--cap-drop", "ALL",
    "--new-session", "--die-with-parent",
  ];
  // deno-fmt-ignore
  const environment = [
    "--clearenv",
    "--setenv", "PATH", "/usr/bin:/bin",
    "--setenv", "DENO_DIR", "/deno-dir",
    "--setenv", "NO_COLOR", "1",
    ...trust.environment,
  ];
  for (const [key, value] of Object.entries(env)) environment.push("--setenv", key, value);
  return [
    ...binds,
    ...trust.binds,
    ...extraBinds,
    "--remount-ro",
    "/",
    ...identity,
    ...environment,
    "--chdir",
    "/app",
    ...command,
  ];
}

/** Where deno sits inside the sandbox. */
export const DENO_IN_CONTAINER = "/opt/sensor-agent/deno";

/** The agent's command inside the sandbox, under the shipped permission set. */
export function agentInContainer(args: string[]): string[] {
  return [DENO_IN_CONTAINER, "run", "-q", "--no-prompt", "-P=agent", "main.ts", ...args];
}
