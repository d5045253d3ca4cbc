// lib/store/filecheck.ts: whether a file is what the agent may read (docs/configuration.md, Files
// the agent reads), judged from its stat alone, before it is opened: opening a FIFO blocks until a
// writer comes and a device such as /dev/zero never ends, so only a regular file is opened at all.
// Deno checks permissions on the path string and knows nothing of hard links, so a file's own
// facts decide the rest, the way sshd's StrictModes judges a key: a file holding a secret must have
// one name and no writer but its owner; a host identity file must be readable by every user, as
// those files always are. Pure: the caller passes the stat.

/** What the checks need of a stat: Deno.FileInfo has these fields, and a test passes plain values. */
export interface FileFacts {
  readonly isFile: boolean;
  readonly size: number;
  /** st_mode, file type bits included; null where the platform has none. */
  readonly mode: number | null;
  readonly nlink: number | null;
}

/**
 * How a file is judged: `secret` (the config, the install-token file, the CA bundle), `host` (the
 * hostname, os-release and machine-id files), `kernel` (procfs and sysfs files, which say size 0 or
 * 4096 whatever they hold, so only their type is judged here and the read is capped instead).
 */
export type FileRole = "secret" | "host" | "kernel";

/** Why a file is refused, as one of a few kinds a caller can act on. */
export type UnfitReason = "not a regular file" | "too large" | "hard link" | "writable" | "private";

/** A refusal: its kind, the words that finish "<path> ...", and the same as a short aside. */
export interface Unfit {
  readonly reason: UnfitReason;
  readonly says: string; // "is not a regular file"
  readonly short: string; // "not a regular file", for "<path> cannot be read (...)"
}

/** `bytes` for a message: "64 KiB", "1 MiB". */
export function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}

/** The refusal for a file that holds more than `maxBytes`. */
export function tooLarge(maxBytes: number): Unfit {
  const larger = `larger than ${sizeText(maxBytes)}`;
  return { reason: "too large", says: `is ${larger}`, short: larger };
}

/**
 * Why the file with `facts` may not be read in `role`, at most `maxBytes` long, or undefined when
 * it may. The order is the order of harm: what would hang or flood the agent first.
 */
export function unfitness(facts: FileFacts, role: FileRole, maxBytes: number): Unfit | undefined {
  if (!facts.isFile) {
    return {
      reason: "not a regular file",
      says: "is not a regular file",
      short: "not a regular file",
    };
  }
  if (role !== "kernel" && facts.size > maxBytes) return tooLarge(maxBytes);
  const permissions = facts.mode === null ? undefined : facts.mode & 0o777;
  const mode = `mode ${permissions?.toString(8).padStart(4, "0")}`;
  if (role === "secret") {
    if (facts.nlink !== null && facts.nlink > 1) {
      const links = `${facts.nlink} hard links`;
      return { reason: "hard link", says: `has ${links}: it may be another file`, short: links };
    }
    if (permissions !== undefined && (permissions & 0o022) !== 0) {
      const writable = `writable by ${(permissions & 0o020) !== 0 ? "its group" : "other users"}`;
      return {
        reason: "writable",
        says: `is ${writable} (${mode})`,
        short: `${writable}, ${mode}`,
      };
    }
  }
  if (role === "host" && permissions !== undefined && (permissions & 0o004) === 0) {
    // A host's hostname, os-release and machine-id are readable by every user: one that is not is
    // someone's secret, whatever its name, and is never reported.
    const secret = `not readable by other users (${mode}): someone's secret, never reported`;
    return { reason: "private", says: `is ${secret}`, short: secret };
  }
  return undefined;
}
