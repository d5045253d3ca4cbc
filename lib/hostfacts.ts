// lib/hostfacts.ts: who this host is, as the backend should see it (contract section 3). Reads the
// host's own files where a container bind-mounts them, and falls back to what the runtime knows.
import { readSmallFile } from "./smallfile.ts";

/** The agent's version, sent at enrollment, in every heartbeat and in the User-Agent. */
export const AGENT_VERSION = "2.0.0";
/** The account Ansible escalates to on sensor hosts (the description's hard-coded value). */
export const SUDO_USER = "sensoradmin";

/** Host identity for the enrollment payload and heartbeats. */
export interface HostFacts {
  readonly hostname: string;
  readonly osInfo: string;
  readonly architecture: string;
}

/** Where the host's identity files are (HOST_*_FILE of contract section 2). */
export interface HostFiles {
  readonly hostnameFile: string;
  readonly osReleaseFile: string;
}

/** The first line of `text` that is not blank, trimmed, or undefined. */
export function firstNonEmptyLine(text: string): string | undefined {
  return text.split(/\r?\n/).map((line) => line.trim()).find((line) => line !== "");
}

/** PRETTY_NAME of an os-release file, unquoted as os-release(5) quotes it, or undefined. */
export function prettyName(osRelease: string): string | undefined {
  for (const line of osRelease.split(/\r?\n/)) {
    const match = /^\s*PRETTY_NAME\s*=\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    const raw = match[1];
    const quoted = /^(["'])(.*)\1$/.exec(raw);
    const value = quoted ? quoted[2].replace(/\\(["\\`$])/g, "$1") : raw;
    return value === "" ? undefined : value;
  }
  return undefined;
}

/** `x86_64` for x86_64/amd64, `arm64` for aarch64/arm64, else the runtime's own name. */
export function architectureName(arch: string): string {
  if (arch === "x86_64" || arch === "amd64") return "x86_64";
  if (arch === "aarch64" || arch === "arm64") return "arm64";
  return arch;
}

/**
 * Reads a small text file, or undefined when it is missing, unreadable, not allowed, not a regular
 * file (a FIFO would block every heartbeat) or over 1 MiB (<proc>/net/route with thousands of
 * routes still fits).
 */
export async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await readSmallFile(path, 1024 * 1024));
  } catch {
    return undefined;
  }
}

/** The host's hostname, OS and architecture, each by the fallbacks of contract section 3. */
export async function readHostFacts(files: HostFiles): Promise<HostFacts> {
  const [hostnameText, osInfo] = await Promise.all([
    readOptionalText(files.hostnameFile),
    readOsInfo(files.osReleaseFile),
  ]);
  return {
    hostname: firstNonEmptyLine(hostnameText ?? "") ?? runtimeHostname() ?? "unknown",
    osInfo,
    architecture: architectureName(Deno.build.arch),
  };
}

// Read once per process, not on every beat: heartbeats do not send osInfo, and the os-release a
// deployment binds in stays the one from start-up until the agent restarts anyway.
const osInfoByFile = new Map<string, Promise<string>>();

function readOsInfo(osReleaseFile: string): Promise<string> {
  let osInfo = osInfoByFile.get(osReleaseFile);
  if (osInfo === undefined) {
    osInfo = (async () =>
      prettyName((await readOptionalText(osReleaseFile)) ?? "") ??
        prettyName((await readOptionalText("/etc/os-release")) ?? "") ?? Deno.build.os)();
    osInfoByFile.set(osReleaseFile, osInfo);
  }
  return osInfo;
}

function runtimeHostname(): string | undefined {
  try {
    return Deno.hostname() || undefined;
  } catch {
    return undefined; // sys permission not granted
  }
}

/** The host's machine id (the file's first line, else /etc/machine-id), or undefined. */
export async function readMachineId(machineIdFile: string): Promise<string | undefined> {
  // An empty file counts as missing: systemd leaves one behind as the mount point of a bind.
  return firstNonEmptyLine((await readOptionalText(machineIdFile)) ?? "") ??
    firstNonEmptyLine((await readOptionalText("/etc/machine-id")) ?? "");
}
