// lib/persist.ts: the only module that writes the env file (docs/configuration.md, What the agent
// writes). Atomic (temp file, fsync, rename, directory fsync), locked against a second agent, mode
// 0600.
import { basename, dirname, join } from "./paths.ts";
import { parseEnvFile, withSensorToken } from "./envfile.ts";
import { AgentError, describe, ExitCode } from "./errors.ts";
import { resolveTarget } from "./location.ts";

/** Creates the missing parent directories of `file`, each 0700 (they will hold a secret). */
async function ensureParent(file: string): Promise<void> {
  await Deno.mkdir(dirname(file), { recursive: true, mode: 0o700 });
}

/** A held lock; `release` is safe to call once the work is done. */
export interface ConfigLock {
  readonly held: boolean;
  readonly reason?: string; // why it is not held
  release(): void;
}

/**
 * Takes the exclusive lock beside the config file (`<target>.lock`), waiting for another agent
 * that holds it. Where the lock cannot be taken at all (a read-only directory), returns a lock that
 * is not held and says why, so the caller can warn and go on (docs/configuration.md).
 */
export async function lockConfig(configPath: string): Promise<ConfigLock> {
  let file: Deno.FsFile;
  try {
    const target = await resolveTarget(configPath);
    await ensureParent(target);
    file = await openLockFile(`${target}.lock`);
  } catch (error) {
    return { held: false, reason: describe(error), release: () => {} };
  }
  try {
    await file.lock(true);
  } catch (error) {
    file.close();
    return { held: false, reason: describe(error), release: () => {} };
  }
  let open = true;
  return {
    held: true,
    release: () => {
      if (!open) return;
      open = false;
      file.close(); // closing drops the flock
    },
  };
}

/**
 * Opens the lock file without following a link: Deno has no O_NOFOLLOW, so a new file is made with
 * O_EXCL (which never follows one); an existing one is opened only when it is a regular file, and
 * kept only if the path still names that same file after the open.
 */
async function openLockFile(path: string): Promise<Deno.FsFile> {
  const options = { read: true, write: true, mode: 0o600 };
  try {
    return await Deno.open(path, { ...options, createNew: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  const notOwn = () => new Error(`${path} is not a regular file of its own (a link?); remove it`);
  const named = await Deno.lstat(path);
  if (!named.isFile) throw notOwn(); // a link or a device is never opened
  const file = await Deno.open(path, options);
  try {
    // Swapped for a link between the lstat and the open: what was opened is not what is named.
    const [opened, now] = await Promise.all([file.stat(), Deno.lstat(path)]);
    if (now.isSymlink || opened.ino !== named.ino || opened.dev !== named.dev) throw notOwn();
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}

/**
 * lockConfig, or undefined as soon as a signal stops the agent. Waiting for the lock
 * cannot be cancelled, and another agent may hold it for a whole BACKEND_TIMEOUT_SECONDS or more:
 * a SIGTERM must not wait for that (found by tests/race_test.ts). A lock taken after the signal is
 * released at once; the process is exiting anyway.
 */
export function lockConfigUnlessStopped(
  configPath: string,
  signal: AbortSignal,
): Promise<ConfigLock | undefined> {
  const locking = lockConfig(configPath);
  if (signal.aborted) {
    locking.then((lock) => lock.release(), () => {});
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const onStop = () => resolve(undefined);
    signal.addEventListener("abort", onStop, { once: true });
    locking.then(
      (lock) => {
        signal.removeEventListener("abort", onStop);
        if (signal.aborted) lock.release();
        resolve(signal.aborted ? undefined : lock);
      },
      (error) => {
        signal.removeEventListener("abort", onStop);
        reject(error);
      },
    );
  });
}

function tempName(target: string): string {
  const random = crypto.getRandomValues(new Uint32Array(2)).join("");
  return join(dirname(target), `.${basename(target)}.${random}.tmp`);
}

/**
 * Removes the temporary files that a writer killed mid-write left beside `target` (names exactly as
 * tempName makes them): the rename never happened, so each is a stray copy of a sensor token that
 * would otherwise stay on disk for good (found by tests/crash_test.ts). Runs under the config lock,
 * so no live writer owns one. Best effort: a failure here must not stop the write.
 */
async function removeStaleTemps(target: string): Promise<void> {
  const prefix = `.${basename(target)}.`;
  try {
    for await (const entry of Deno.readDir(dirname(target))) {
      const name = entry.name;
      if (!entry.isFile || !name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
      if (!/^\d+$/.test(name.slice(prefix.length, -".tmp".length))) continue;
      await Deno.remove(join(dirname(target), name)).catch(() => {});
    }
  } catch {
    // an unreadable directory: the write below reports what is wrong with it
  }
}

/**
 * The first check of `enroll`, before anything is created or sent: the directory where the final
 * rename will happen, every link followed, lies inside the write grant. Throws its 73 otherwise.
 */
export async function checkConfigTarget(configPath: string): Promise<void> {
  const target = await resolveTarget(configPath).catch(() => configPath);
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
 * Proves, before any token is spent, that the config can be written: its directory exists or can
 * be made, and a temporary file as large as the rewrite can be written and synced there. Throws the
 * 73 of `enroll` otherwise.
 */
export async function checkWritable(configPath: string): Promise<void> {
  let temp: string | undefined;
  try {
    const target = await resolveTarget(configPath);
    await ensureParent(target);
    temp = tempName(target);
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      // An empty file takes no data blocks, so creating one proves nothing on a full disk (found by
      // tests/diskfull_test.ts: the token was spent, then the write failed). Writing as many bytes
      // as the new file can take makes a full disk or quota fail here instead; fdatasync makes a
      // filesystem that allocates late (ext4, xfs) allocate now. (fdatasync, not fsync: enough for
      // the blocks, and it keeps the write's own fsync the first one, for tests/crash_test.ts.)
      const size = await Deno.stat(target).then((info) => info.size, () => 0);
      await writeAll(file, new Uint8Array(size + REWRITE_ROOM));
      await file.syncData();
    } finally {
      file.close();
    }
  } catch (error) {
    throw new AgentError(
      ExitCode.cantCreate,
      `cannot write the config ${configPath}: ${describe(error)}; nothing was sent`,
      "Run the agent as a user that may write the config file and its directory",
    );
  } finally {
    if (temp !== undefined) await Deno.remove(temp).catch(() => {});
  }
}

/**
 * Writes the sensor token into the env file atomically: every other line kept byte for byte, the
 * install token commented out, mode 0600, owner and group kept. A crash at any instant leaves the
 * old file or the new one. Throws an Error naming the path and the reason; the file is untouched
 * then.
 */
export async function persistSensorToken(configPath: string, sensorToken: string): Promise<void> {
  const target = await resolveTarget(configPath);
  let temp: string | undefined;
  try {
    await ensureParent(target);
    await removeStaleTemps(target);
    let before = "";
    let owner: { uid: number | null; gid: number | null } | undefined;
    try {
      before = await Deno.readTextFile(target);
      const info = await Deno.stat(target);
      owner = { uid: info.uid, gid: info.gid };
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const after = withSensorToken(parseEnvFile(before, target), sensorToken);
    temp = tempName(target);
    const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
    try {
      await writeAll(file, new TextEncoder().encode(after));
      await Deno.chmod(temp, 0o600); // the umask may have taken bits; never more than 0600 either way
      if (owner && owner.uid !== null && owner.gid !== null) await keepOwner(file, temp, owner);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, target);
    temp = undefined;
    await syncDirectory(dirname(target));
  } catch (error) {
    throw new Error(`cannot write ${target}: ${describe(error)}`);
  } finally {
    if (temp !== undefined) await Deno.remove(temp).catch(() => {});
  }
}

async function keepOwner(
  file: Deno.FsFile,
  temp: string,
  owner: { uid: number | null; gid: number | null },
) {
  const info = await file.stat();
  if (info.uid === owner.uid && info.gid === owner.gid) return;
  await Deno.chown(temp, owner.uid, owner.gid);
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await file.write(bytes.subarray(offset));
}

async function syncDirectory(directory: string): Promise<void> {
  // Without this the rename itself may not survive a power cut.
  using dir = await Deno.open(directory, { read: true });
  await dir.sync();
}
