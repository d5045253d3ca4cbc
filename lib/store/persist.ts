// lib/store/persist.ts: the only writer of the env file (docs/configuration.md, What the agent
// writes): the atomic replace (temp file, fsync, rename, directory fsync, mode 0600, owner kept)
// and the checks that prove, before a token is spent, that the replace will succeed. What the new
// text is, the caller decides (config/ owns the env file's grammar); the caller also holds the
// lock. Every call that cannot block is synchronous (an async one costs a hop to Deno's thread pool
// and back). The syncs to disk are not, so that a slow disk does not keep the agent from a signal,
// nor is the open of the directory to sync, which a FIFO swapped in for it would block.
import { dirname } from "../paths.ts";
import { ensureParent } from "./configlock.ts";
import { AgentError, describe, ExitCode } from "../errors.ts";
import { removeTemps, tempName } from "./leftovers.ts";
import { resolveTarget, statOrUndefined, targetOrPath } from "./location.ts";
import { readSmallFile } from "./smallfile.ts";

/**
 * The first check of `enroll`, before anything is created or sent: the directory where the final
 * rename will happen, every link followed, lies inside the write grant. Throws its 73 otherwise.
 */
export function checkConfigTarget(configPath: string): void {
  const target = targetOrPath(configPath); // not resolvable: judged as named
  const allowed = (path: string) =>
    Deno.permissions.querySync({ name: "write", path }).state === "granted";
  if (allowed(dirname(target)) && allowed(target)) return;
  const leads = target === configPath ? "" : ` (it resolves to ${target})`;
  throw new AgentError(
    ExitCode.cantCreate,
    `cannot write the config ${configPath}${leads}: outside what this build's permission set may write; nothing was sent`,
    "Keep the config, and any link it is reached through, inside the directory the permission set grants",
  );
}

/** Room the rewrite may need beyond the file's size: a 4096-character token line, and more. */
const REWRITE_ROOM = 8 * 1024;

/**
 * Proves, before any token is spent, that the config can be written as replaceFile will write
 * it: its directory exists or can be made, and a temporary file as large as the rewrite can
 * be written, synced and given the owner and group of the file it will replace. Throws the 73 of
 * `enroll` otherwise.
 */
export async function checkWritable(configPath: string): Promise<void> {
  let temp: string | undefined;
  try {
    const target = resolveTarget(configPath);
    ensureParent(target);
    const existing = statOrUndefined(target);
    temp = tempName(target);
    const file = Deno.openSync(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      // An empty file takes no data blocks, so creating one proves nothing on a full disk (found by
      // tests/agent/diskfull_test.ts: the token was spent, then the write failed). Writing as many
      // bytes as the new file can take makes a full disk or quota fail here instead; fdatasync
      // makes a filesystem that allocates late (ext4, xfs) allocate now. (fdatasync, not fsync:
      // enough for the blocks, and it keeps the write's own fsync the first one, for
      // tests/agent/crash_test.ts.)
      writeAll(file, new Uint8Array((existing?.size ?? 0) + REWRITE_ROOM));
      await file.syncData();
      // The save's chown too: a file owned by the agent's user with another group (what `chown
      // user FILE` leaves) cannot be given that group back by anyone but root (found by
      // tests/agent/ownership_test.ts: the token was spent, then the save failed).
      if (existing !== undefined) keepOwner(file, temp, existing);
    } finally {
      file.close();
    }
  } catch (error) {
    throw new AgentError(
      ExitCode.cantCreate,
      `cannot write the config ${configPath}: ${describe(error)}; nothing was sent`,
      error instanceof OwnerError
        ? `Give ${configPath} the agent's own user and group (chown USER:GROUP), or run the agent as root`
        : "Run the agent as a user that may write the config file and its directory",
    );
  } finally {
    if (temp !== undefined) removeIfThere(temp);
  }
}

/**
 * The new text of a file from its current text ("" when it does not exist yet) and its resolved
 * path (for messages), or undefined when the file already says what it should: nothing is written
 * then. May throw: nothing is written either.
 */
export type Rewrite = (before: string, target: string) => string | undefined;

/**
 * Replaces the file at `configPath` (where it really is, every link followed) with what `rewrite`
 * makes of its current text, atomically: mode 0600, owner and group kept, temporary files a crash
 * left removed first. A crash at any instant leaves the old file or the new one. Throws an Error
 * naming the path and the reason; the file is untouched then. Writes nothing when `rewrite` says
 * the file is as it should be.
 */
export async function replaceFile(configPath: string, rewrite: Rewrite): Promise<void> {
  const target = resolveTarget(configPath);
  let temp: string | undefined;
  try {
    ensureParent(target);
    removeTemps(target); // under the lock: none of them is a live writer's
    let before = "";
    let owner: Deno.FileInfo | undefined;
    try {
      // Judged as when it was loaded: the rewrite reads what it keeps, and nothing else.
      const rules = { role: "secret", maxBytes: 64 * 1024, resolved: true } as const;
      before = new TextDecoder().decode(await readSmallFile(target, rules));
      owner = Deno.statSync(target);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const after = rewrite(before, target);
    if (after === undefined) return;
    temp = tempName(target);
    const file = Deno.openSync(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      writeAll(file, new TextEncoder().encode(after));
      Deno.chmodSync(temp, 0o600); // the umask may have taken bits; never more than 0600 either way
      if (owner !== undefined) keepOwner(file, temp, owner);
      // The new bytes (and mode and owner) on disk before the rename makes them the config: without
      // it a power cut after the rename can leave a config of zero bytes, its token lost.
      await file.sync();
    } finally {
      file.close();
    }
    Deno.renameSync(temp, target);
    temp = undefined;
    await syncDirectory(dirname(target));
  } catch (error) {
    throw new Error(`cannot write ${target}: ${describe(error)}`);
  } finally {
    if (temp !== undefined) removeIfThere(temp);
  }
}

/** A temporary file that could not be given the owner and group of the file it replaces. */
class OwnerError extends Error {}

/**
 * Gives `temp` (open as `file`) the owner and group of `owner`, the file it will replace. On the
 * main thread, like every call here but the syncs: the check and the save then chown on one thread,
 * in that order, so tests/agent/crash_test.ts can stop the second one alone.
 */
function keepOwner(file: Deno.FsFile, temp: string, owner: Deno.FileInfo): void {
  if (owner.uid === null || owner.gid === null) return;
  const info = file.statSync();
  if (info.uid === owner.uid && info.gid === owner.gid) return;
  try {
    Deno.chownSync(temp, owner.uid, owner.gid);
  } catch (error) {
    const reason = error instanceof Error
      ? error.message.replace(/ \(os error \d+\).*$/s, "")
      : error;
    throw new OwnerError(
      `a new file cannot be given the owner and group of the old one (uid ${owner.uid}, gid ${owner.gid}): ${reason}`,
    );
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length;) offset += file.writeSync(bytes.subarray(offset));
}

function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // already gone; a leftover is removed at the next start in any case
  }
}

async function syncDirectory(directory: string): Promise<void> {
  // Without this the rename itself may not survive a power cut: the old config would come back,
  // with the spent install token and no sensor token. These two are the save's only syncs; the
  // pre-flight's fdatasync (checkWritable) is not for durability but to meet a full disk before the
  // install token is spent.
  using dir = await Deno.open(directory, { read: true });
  await dir.sync();
}
