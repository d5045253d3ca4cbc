// lib/store/configlock.ts: the exclusive lock beside the config file (docs/configuration.md, What
// the agent writes): held from reading the config to persisting the token, so two agents never both
// enroll, and held by whoever removes the temporary files a crash left (leftovers.ts), so a live
// writer's are never taken.
import { dirname } from "../paths.ts";
import { describe } from "../errors.ts";
import { resolveTarget } from "./location.ts";

/** A held lock; `release` is safe to call once the work is done. */
export interface ConfigLock {
  readonly held: boolean;
  readonly reason?: string; // why it is not held
  /** True when another agent held the lock and this one waited for it. */
  readonly waited: boolean;
  release(): void;
}

/** Creates the missing parent directories of `file`, each 0700 (they will hold a secret). */
export function ensureParent(file: string): void {
  Deno.mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
}

/**
 * Takes the exclusive lock beside the config file (`<target>.lock`), waiting for another agent
 * that holds it. Where the lock cannot be taken at all (a read-only directory), returns a lock that
 * is not held and says why, so the caller can warn and go on (docs/configuration.md).
 */
export async function lockConfig(configPath: string): Promise<ConfigLock> {
  let file: Deno.FsFile;
  try {
    const target = resolveTarget(configPath);
    ensureParent(target);
    file = await openLockFile(`${target}.lock`);
  } catch (error) {
    return notHeld(error);
  }
  let waited = false;
  try {
    // Free nearly always: taken at once. Only a lock another agent holds is waited for, off the
    // main thread, so that a signal is still heard meanwhile.
    if (!file.tryLockSync(true)) {
      waited = true;
      await file.lock(true);
    }
  } catch (error) {
    file.close();
    return notHeld(error);
  }
  return heldLock(file, waited);
}

function notHeld(error: unknown): ConfigLock {
  return { held: false, reason: describe(error), waited: false, release: () => {} };
}

/**
 * The lock on `target` if no one holds it now, else undefined; never waits, never fails (a lock
 * file that cannot be opened is as good as held by someone).
 */
export async function tryLockConfig(target: string): Promise<ConfigLock | undefined> {
  let file: Deno.FsFile;
  try {
    file = await openLockFile(`${target}.lock`);
  } catch {
    return undefined;
  }
  try {
    if (file.tryLockSync(true)) return heldLock(file, false);
  } catch {
    // not lockable here: treated as held
  }
  file.close();
  return undefined;
}

function heldLock(file: Deno.FsFile, waited: boolean): ConfigLock {
  let open = true;
  return {
    held: true,
    waited,
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
 * kept only if the path still names that same file after the open. The looks and the create are
 * synchronous (none can block, and an async call costs a hop to Deno's thread pool and back); the
 * open of an existing file is not: a device swapped in after the look (a tty waiting for carrier)
 * could block it, and a signal must still be heard then.
 */
async function openLockFile(path: string): Promise<Deno.FsFile> {
  const options = { read: true, write: true, mode: 0o600 };
  const notOwn = () => new Error(`${path} is not a regular file of its own (a link?); remove it`);
  // The lock file stays from one start to the next: look before trying to create it, since a
  // failed create costs an error object built and thrown.
  let named = lstatOrUndefined(path);
  if (named === undefined) {
    try {
      return Deno.openSync(path, { ...options, createNew: true });
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    named = Deno.lstatSync(path); // made meanwhile by another agent
  }
  if (!named.isFile) throw notOwn(); // a link or a device is never opened
  const file = await Deno.open(path, options);
  try {
    // Swapped for a link between the lstat and the open: what was opened is not what is named.
    const opened = file.statSync();
    const now = Deno.lstatSync(path);
    if (now.isSymlink || opened.ino !== named.ino || opened.dev !== named.dev) throw notOwn();
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}

function lstatOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * lockConfig, or undefined as soon as a signal stops the agent. Waiting for the lock
 * cannot be cancelled, and another agent may hold it for a whole BACKEND_TIMEOUT_SECONDS or more:
 * a SIGTERM must not wait for that (found by tests/agent/race_test.ts). A lock taken after the
 * signal is released at once; the process is exiting anyway.
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
