// lib/store/smallfile.ts: reading the agent's small input files (the env file, INSTALL_TOKEN_FILE,
// BACKEND_CA_FILE, the host identity files) without trusting what their paths name. The file is
// judged from its stat before it is opened (filecheck.ts): a FIFO would hang the agent, deaf to
// SIGTERM, and a device such as /dev/zero would fill its memory (found by
// tests/agent/hostile_config_test.ts). What was opened must be what was judged, and at most
// `maxBytes` are read.
import { type FileRole, tooLarge, type Unfit, unfitness, type UnfitReason } from "./filecheck.ts";

/** A path that names something the agent may not read, and why. */
export class UnfitFileError extends Error {
  constructor(
    readonly reason: UnfitReason | "moved" | "changed",
    message: string, // "is not a regular file"
    readonly short: string, // "not a regular file"
  ) {
    super(message);
    this.name = "UnfitFileError";
  }

  /** The error for a refusal of filecheck.ts. */
  static of(unfit: Unfit): UnfitFileError {
    return new UnfitFileError(unfit.reason, unfit.says, unfit.short);
  }

  /** The error for a path that no longer resolves to itself. */
  static moved(real: string): UnfitFileError {
    return new UnfitFileError("moved", `now leads to ${real}`, `now a link to ${real}`);
  }

  /** The error for a file swapped between its stat and its open. */
  static changed(): UnfitFileError {
    const replaced = "replaced while it was being opened";
    return new UnfitFileError("changed", `was ${replaced}`, replaced);
  }
}

/** How a file is read: as what, how much at most, and whether its path must still be its own. */
export interface ReadRules {
  readonly role: FileRole;
  readonly maxBytes: number;
  /**
   * The path is where a setting was resolved to when the configuration was loaded: it must still
   * resolve to itself, so a file swapped for a link since then is not followed.
   */
  readonly resolved?: boolean;
}

/**
 * The contents of the file at `path`, at most `rules.maxBytes` of them, if it is fit for
 * `rules.role`. Throws UnfitFileError for what it refuses ("is not a regular file", "is larger
 * than 64 KiB", ...) and Deno's own errors (NotFound, PermissionDenied...) for what it cannot do.
 */
export async function readSmallFile(path: string, rules: ReadRules): Promise<Uint8Array> {
  // Another agent's atomic save renames a new file over this one: a swap between the look and the
  // open is then an honest replacement, not an attack. The new file is judged afresh, up to twice
  // more; a file that changes under every look is refused.
  for (let attempt = 1;; attempt++) {
    try {
      return await readJudged(path, rules);
    } catch (error) {
      const replaced = error instanceof UnfitFileError && error.reason === "changed";
      if (!replaced || attempt === 3) throw error;
    }
  }
}

async function readJudged(path: string, rules: ReadRules): Promise<Uint8Array> {
  // The looks are synchronous: each is a few microseconds, where an async call costs a hop to
  // Deno's thread pool and back (the agent's start pays it per file). The open is not: it alone
  // can block, on a FIFO swapped in after the stat, and then SIGTERM must still be heard.
  if (rules.resolved) {
    const real = Deno.realPathSync(path);
    if (real !== path) throw UnfitFileError.moved(real);
  }
  const judged = Deno.statSync(path);
  const unfit = unfitness(judged, rules.role, rules.maxBytes);
  if (unfit !== undefined) throw UnfitFileError.of(unfit);
  // Deno has no O_NOFOLLOW or O_NONBLOCK: the path may be swapped between the stat and the open.
  // What was opened must be the very file that was judged. Deno's fstat checks the grant against
  // where the open file really is, so it serves where the path is its own; a system file reached
  // through the distribution's link (/etc/os-release) is looked at by its path once more instead.
  using file = await Deno.open(path, { read: true });
  const opened = rules.resolved ? file.statSync() : Deno.statSync(path);
  if (opened.ino !== judged.ino || opened.dev !== judged.dev) throw UnfitFileError.changed();
  const unfitOpened = unfitness(opened, rules.role, rules.maxBytes);
  if (unfitOpened !== undefined) throw UnfitFileError.of(unfitOpened);
  return readCapped(file, rules.maxBytes);
}

/**
 * Reads `file` to its end, refusing more than `maxBytes`: the file may have grown since its stat,
 * and procfs files say size 0 whatever they hold.
 */
function readCapped(file: Deno.FsFile, maxBytes: number): Uint8Array {
  const buffer = new Uint8Array(Math.min(maxBytes + 1, 64 * 1024));
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const n = file.readSync(buffer); // a regular file: it ends, and soon
    if (n === null) break;
    length += n;
    if (length > maxBytes) throw UnfitFileError.of(tooLarge(maxBytes));
    chunks.push(buffer.slice(0, n));
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
