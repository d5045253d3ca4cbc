// lib/host/degraded.ts: the one warning a sensor gives when it cannot read the host's procfs or
// sysfs (docs/protocol.md, Interfaces): which facts are missing, which file could not be read and
// why, and what the operator can do about it. Pure: the caller passes the failures it met.
import type { HostRoots } from "../config/mod.ts";
import { UnfitFileError } from "../store/mod.ts";

/** Deno's error names, as an operator would say them. */
const REASONS: Record<string, string> = {
  NotCapable: "not granted",
  NotFound: "does not exist",
  PermissionDenied: "the file system refuses it",
  NotADirectory: "not a directory",
};

/** Why a file could not be read, from the error met, as an operator would say it. */
export function unreadableReason(error: unknown): string {
  if (error instanceof UnfitFileError) return error.short;
  const name = error instanceof Error ? error.name : String(error);
  return REASONS[name] ?? name;
}

/**
 * One line for `failures` (path, and why it could not be read) under `roots`: the missing facts,
 * each file and why, what brings them in, and what is sent instead. Names paths and reasons only,
 * never file contents.
 */
export function unreadableRoots(roots: HostRoots, failures: readonly [string, string][]): string {
  const unread = failures.map(([path, reason]) => `${path} cannot be read (${reason})`);
  // Deno lets only a process holding every permission read /proc and /sys themselves, so granting
  // them is no advice; mounting them elsewhere, as deployments do, is.
  const own = roots.proc === "/proc" || roots.sys === "/sys";
  const fix = own
    ? "bind-mount the host's /proc and /sys read-only at /host/proc and /host/sys, as the systemd" +
      " unit and the compose file do (on a workstation, `deno task try` does it for you)"
    : `mount the host's /proc read-only at ${roots.proc} and its /sys at ${roots.sys}`;
  return `interface flags and counters are missing: ${unread.join("; ")}. To report them, ${fix}.` +
    " Until then each interface with an address is sent with isLoopback known by its address," +
    " every other flag false and counters 0, which are not measured";
}
