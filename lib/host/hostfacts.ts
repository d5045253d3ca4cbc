// lib/host/hostfacts.ts: who this host is, as the backend should see it (docs/protocol.md, Host
// facts). Reads the host's own files where a container bind-mounts them, and falls back to what the
// runtime knows.
import { unreadableReason } from "./degraded.ts";
import { warnOnce } from "../log.ts";
import { readSmallFile } from "../store/mod.ts";
import { architectureName } from "../version.ts";

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

/** The most of a host identity file read: an os-release is a few hundred bytes, 1 MiB is none. */
const MAX_HOST_FILE_BYTES = 1024 * 1024;

/** A host file's text, or the error that kept it from being read. */
type HostFileText = { text: string } | { failure: unknown };

/**
 * Reads a host identity file as lib/store/filecheck.ts judges one: a regular file every user may read.
 * `resolved`: the path is where a setting led when the configuration was loaded, and must still
 * lead there (a file swapped for a link since is not followed). Judged at every read, so at every
 * refresh of the host facts.
 */
async function readHostFile(path: string, resolved: boolean): Promise<HostFileText> {
  try {
    const rules = { role: "host", maxBytes: MAX_HOST_FILE_BYTES, resolved } as const;
    return { text: new TextDecoder().decode(await readSmallFile(path, rules)) };
  } catch (error) {
    return { failure: error };
  }
}

/** Why a host file gave nothing: its failure as an operator would say it, or `otherwise`. */
function why(file: HostFileText, otherwise: string): string {
  return "failure" in file ? unreadableReason(file.failure) : otherwise;
}

/** True when the file simply is not there: a host without containers has no bind-mounted copy. */
function isMissing(file: HostFileText): boolean {
  return "failure" in file && file.failure instanceof Deno.errors.NotFound;
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
    readHostFile(files.hostnameFile, true),
    readOsInfo(files.osReleaseFile),
  ]);
  let hostname = "text" in hostnameFile ? firstNonEmptyLine(hostnameFile.text) : undefined;
  if (hostname === undefined) {
    hostname = runtimeHostname();
    if ("failure" in hostnameFile && !isMissing(hostnameFile)) {
      warnOnce(
        `hostname: ${files.hostnameFile} cannot be read (${why(hostnameFile, "")}); ` +
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
      const host = await readHostFile(osReleaseFile, true);
      const hostName = "text" in host ? prettyName(host.text) : undefined;
      if (hostName !== undefined) return hostName;
      // The system's own file, not a setting: a link there is the distribution's (to
      // /usr/lib/os-release), so it is followed.
      const own = await readHostFile("/etc/os-release", false);
      const ownName = "text" in own ? prettyName(own.text) : undefined;
      // Without the host's file, /etc/os-release is the host's own unless the agent runs in a
      // container; a file that exists but cannot be read is worth a word either way.
      if (ownName === undefined || !isMissing(host)) {
        warnOnce(
          `osInfo: ${osReleaseFile} cannot be read (${why(host, "no PRETTY_NAME")})` +
            (ownName === undefined
              ? ` nor /etc/os-release (${why(own, "no PRETTY_NAME")}); sending "${Deno.build.os}"`
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
 * warning: without one, enrollment goes without an Idempotency-Key and requests without a host
 * binding (docs/protocol.md).
 */
export async function readMachineId(machineIdFile: string): Promise<string | undefined> {
  // An empty file counts as missing: systemd leaves one behind as the mount point of a bind.
  const host = await readHostFile(machineIdFile, true);
  const hostId = "text" in host ? firstNonEmptyLine(host.text) : undefined;
  if (hostId !== undefined) return hostId; // the fallback is read only when it is needed
  const own = await readHostFile("/etc/machine-id", false);
  const id = "text" in own ? firstNonEmptyLine(own.text) : undefined;
  if (id === undefined) {
    warnOnce(
      `machine id: neither ${machineIdFile} (${why(host, "empty")}) nor /etc/machine-id (${
        why(own, "empty")
      }) ` +
        "can be read, so enrollment goes without an Idempotency-Key (a retry after a lost reply " +
        "cannot be recognised) and requests without a Sensor-Host-Binding (a copy of the env file " +
        `on another machine cannot be told); ${mountAdvice("/etc/machine-id", machineIdFile)}`,
    );
  }
  return id;
}
