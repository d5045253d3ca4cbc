// lib/hostfacts.ts: who this host is, as the backend should see it (docs/protocol.md, Host facts).
// Reads the host's own files where a container bind-mounts them, and falls back to what the runtime
// knows.
import { unreadableReason } from "./degraded.ts";
import { warnOnce } from "./log.ts";
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

/** Where the host's identity files are (HOST_*_FILE of docs/configuration.md). */
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

/** A file's text, or why it could not be read: Deno's error name ("NotFound", "NotCapable"...). */
async function readText(path: string): Promise<{ text: string } | { failure: string }> {
  try {
    return { text: new TextDecoder().decode(await readSmallFile(path, 1024 * 1024)) };
  } catch (error) {
    return { failure: error instanceof Error ? error.name : String(error) };
  }
}

/** The advice that brings a host file in: mount it where the agent looks, and grant it. */
function mountAdvice(hostFile: string, at: string): string {
  return `mount the host's ${hostFile} read-only at ${at} and grant read of ${at}`;
}

/**
 * The host's hostname, OS and architecture, each by the fallbacks of docs/protocol.md, Host facts.
 * A fallback that may not be the host's own (a file that exists but cannot be read, a container's
 * os-release, the runtime's OS name) is warned about once, naming the fact, the file and the fix. A
 * missing hostname file is not: without a container the runtime's hostname is the host's.
 */
export async function readHostFacts(files: HostFiles): Promise<HostFacts> {
  const [hostnameFile, osInfo] = await Promise.all([
    readText(files.hostnameFile),
    readOsInfo(files.osReleaseFile),
  ]);
  let hostname = "text" in hostnameFile ? firstNonEmptyLine(hostnameFile.text) : undefined;
  if (hostname === undefined) {
    hostname = runtimeHostname();
    if ("failure" in hostnameFile && hostnameFile.failure !== "NotFound") {
      warnOnce(
        `hostname: ${files.hostnameFile} cannot be read (${
          unreadableReason(hostnameFile.failure)
        }); ` +
          `sending ${hostname === undefined ? '"unknown"' : "this runtime's hostname"} instead; ` +
          mountAdvice("/etc/hostname", files.hostnameFile),
      );
    }
  }
  return {
    hostname: hostname ?? "unknown",
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
    osInfo = (async () => {
      const host = await readText(osReleaseFile);
      const hostName = "text" in host ? prettyName(host.text) : undefined;
      if (hostName !== undefined) return hostName;
      const own = await readText("/etc/os-release");
      const ownName = "text" in own ? prettyName(own.text) : undefined;
      // Without the host's file, /etc/os-release is the host's own unless the agent runs in a
      // container; a file that exists but cannot be read is worth a word either way.
      const hostFailure = "failure" in host ? host.failure : "no PRETTY_NAME";
      if (ownName === undefined || hostFailure !== "NotFound") {
        const ownFailure = "failure" in own ? unreadableReason(own.failure) : "no PRETTY_NAME";
        warnOnce(
          `osInfo: ${osReleaseFile} cannot be read (${unreadableReason(hostFailure)})` +
            (ownName === undefined
              ? ` nor /etc/os-release (${ownFailure}); sending "${Deno.build.os}"`
              : `; sending /etc/os-release's "${ownName}"`) +
            `; ${mountAdvice("/etc/os-release", osReleaseFile)}`,
        );
      }
      return ownName ?? Deno.build.os;
    })();
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

/**
 * The host's machine id (the file's first line, else /etc/machine-id), or undefined, with a
 * warning: without one, enrollment goes without an Idempotency-Key (docs/protocol.md).
 */
export async function readMachineId(machineIdFile: string): Promise<string | undefined> {
  // An empty file counts as missing: systemd leaves one behind as the mount point of a bind.
  const [host, own] = await Promise.all([readText(machineIdFile), readText("/etc/machine-id")]);
  const id = ("text" in host ? firstNonEmptyLine(host.text) : undefined) ??
    ("text" in own ? firstNonEmptyLine(own.text) : undefined);
  if (id === undefined) {
    const why = (file: typeof host) => "failure" in file ? unreadableReason(file.failure) : "empty";
    warnOnce(
      `machine id: neither ${machineIdFile} (${why(host)}) nor /etc/machine-id (${why(own)}) ` +
        "can be read, so enrollment goes without an Idempotency-Key and a retry after a lost " +
        `reply cannot be recognised; ${mountAdvice("/etc/machine-id", machineIdFile)}`,
    );
  }
  return id;
}
