// lib/degraded.ts: the one warning a sensor gives when it cannot read the host's procfs or sysfs
// (docs/protocol.md, Interfaces): which facts are missing, which file could not be read and why,
// and the mount and grant that fix it. Pure: the caller passes the failures it met.
import type { HostRoots } from "./interfaces.ts";

/** Deno's error names, as an operator would say them. */
const REASONS: Record<string, string> = {
  NotCapable: "not granted",
  NotFound: "does not exist",
  PermissionDenied: "the file system refuses it",
  NotADirectory: "not a directory",
  UnfitFileError: "not a small regular file",
};

/** Why a file could not be read, from Deno's error name, as an operator would say it. */
export function unreadableReason(errorName: string): string {
  return REASONS[errorName] ?? errorName;
}

/**
 * One line for `failures` (path and Deno error name) under `roots`: the missing facts, then per
 * file what it is and how to grant it, then what is sent instead. Names paths and error kinds only,
 * never file contents.
 */
export function unreadableRoots(roots: HostRoots, failures: readonly [string, string][]): string {
  const fixes = failures.map(([path, kind]) => {
    const isProc = path.startsWith(roots.proc + "/");
    const root = isProc ? roots.proc : roots.sys;
    const what = isProc ? "/proc" : "/sys";
    return `${path} cannot be read (${unreadableReason(kind)}); mount the host's ${what}` +
      ` read-only at ${root} and grant read of ${path}`;
  });
  return `interface flags and counters are missing: ${fixes.join("; and ")}. Until then each` +
    ` interface with an address is sent with flags false and counters 0, which are not measured`;
}
