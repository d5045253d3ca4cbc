// tests/support/mountpoints.ts: the directories the shipped layout mounts on (/host, /host/proc,
// /host/sys, /etc/ravenxcope), shared by every test that uses the layout at the same time, in this
// process or another (`deno test --parallel` runs files side by side). Each user holds a shared
// flock on one lock file for as long as it uses them; the one that finds itself the last user
// removes the directories the tests made (never recursively, never one that existed before: a
// machine may have its own /etc/ravenxcope). What was made is written in the lock file, so a run
// killed half-way is tidied by the next one.

/** The lock file; its text lists, one a line, the mount points that tests made. */
const LOCK_PATH = "/tmp/sensor-agent-test-mount-points.lock";

/** Mount points in use by this caller until it disposes of the claim. */
export interface MountPointClaim {
  [Symbol.asyncDispose](): Promise<void>;
}

/** Makes the `paths` (in order) that are missing, and keeps them until the last claim ends. */
export async function claimMountPoints(paths: readonly string[]): Promise<MountPointClaim> {
  const lock = await Deno.open(LOCK_PATH, { read: true, write: true, create: true, mode: 0o600 });
  try {
    // Shared while in use; exclusive only to make what is missing, which no one can be using then
    // (the last user removes them all at once, alone), so a start never waits for another test.
    await lock.lock(false);
    if (await allExist(paths)) return claim(lock);
    await lock.lock(true); // alone while making them and writing down what was made
    const made = await madeSoFar(lock);
    for (const path of paths) {
      try {
        await Deno.mkdir(path, { mode: 0o755 });
        made.push(path);
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      }
    }
    await rewrite(lock, made);
    await lock.lock(false); // shared from now on: other tests may use them too
  } catch (error) {
    lock.close();
    throw error;
  }
  return claim(lock);
}

async function allExist(paths: readonly string[]): Promise<boolean> {
  for (const path of paths) {
    if (!(await Deno.stat(path).then((info) => info.isDirectory, () => false))) return false;
  }
  return true;
}

/** The claim held through `lock` (shared): its end removes the mount points if it is the last. */
function claim(lock: Deno.FsFile): MountPointClaim {
  return {
    async [Symbol.asyncDispose]() {
      try {
        await lock.unlock();
        if (!(await lock.tryLock(true))) return; // someone still uses them
        const made = await madeSoFar(lock);
        for (const path of made.reverse()) await Deno.remove(path).catch(() => {});
        await rewrite(lock, []);
      } finally {
        lock.close(); // drops whatever lock is held
      }
    },
  };
}

async function madeSoFar(lock: Deno.FsFile): Promise<string[]> {
  await lock.seek(0, Deno.SeekMode.Start);
  let text = "";
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(4096);
  for (let n = await lock.read(buffer); n !== null; n = await lock.read(buffer)) {
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
  }
  return [...new Set(text.split("\n").filter((line) => line.startsWith("/")))];
}

async function rewrite(lock: Deno.FsFile, made: string[]): Promise<void> {
  await lock.truncate(0);
  await lock.seek(0, Deno.SeekMode.Start);
  const bytes = new TextEncoder().encode(made.map((path) => `${path}\n`).join(""));
  for (let offset = 0; offset < bytes.length;) offset += await lock.write(bytes.subarray(offset));
}
