// lib/store/leftovers.ts: the temporary files of the config's atomic rewrite
// (docs/configuration.md, What the agent writes), and their removal after a crash. A writer killed
// between creating its temporary file and renaming it leaves a 0600 copy of the new file, sensor
// token and all, which nothing else would ever remove (found by tests/agent/crash_test.ts). Every
// command that loads the config removes them first, but only under the config lock, taken without
// waiting: every writer holds that lock for as long as its temporary file lives, so a lock held by
// someone means a live writer, whose file is left alone.
import { resolveTarget } from "./location.ts";
import { log } from "../log.ts";
import { basename, dirname, join, resolve } from "../paths.ts";

/** A fresh temporary file beside `target`: `.<name>.<random digits>.tmp`, in its directory. */
export function tempName(target: string): string {
  const random = crypto.getRandomValues(new Uint32Array(2)).join("");
  return join(dirname(target), `.${basename(target)}.${random}.tmp`);
}

/** True for a name that tempName gives beside `target`, and no other. */
export function isTempName(target: string, name: string): boolean {
  const prefix = `.${basename(target)}.`;
  return name.startsWith(prefix) && name.endsWith(".tmp") &&
    /^\d+$/.test(name.slice(prefix.length, -".tmp".length));
}

/**
 * Removes the temporary files beside `target`; the caller holds the config lock. Best effort: links
 * and directories of such names are not the agent's and stay, and a failure is no reason to stop.
 * Returns how many were removed.
 */
export function removeTemps(target: string): number {
  let removed = 0;
  try {
    for (const entry of Deno.readDirSync(dirname(target))) {
      if (!entry.isFile || !isTempName(target, entry.name)) continue;
      try {
        Deno.removeSync(join(dirname(target), entry.name));
        removed++;
      } catch {
        // gone already, or not ours to remove: the next writer meets it again
      }
    }
  } catch {
    // an unreadable directory: whoever writes there next reports what is wrong with it
  }
  return removed;
}

/**
 * Removes what a crash left beside the config at `configPath` (where it really is), if the config
 * lock is free now; logs what it removed. Nothing happens where the permission set may not write,
 * where no temporary file lies, or while another process holds the lock. Never throws.
 */
export async function removeLeftovers(configPath: string): Promise<void> {
  try {
    const target = whereConfigIs(configPath);
    const directory = dirname(target);
    if (Deno.permissions.querySync({ name: "write", path: directory }).state !== "granted") return;
    // Looked for synchronously: every command pays this at start, and there is rarely anything.
    let found = false;
    for (const entry of Deno.readDirSync(directory)) {
      if (entry.isFile && isTempName(target, entry.name)) found = true;
    }
    if (!found) return;
    const { tryLockConfig } = await import("./configlock.ts");
    const lock = await tryLockConfig(target);
    if (lock === undefined) return; // a writer is at work: its file is not a leftover
    try {
      const removed = removeTemps(target);
      if (removed > 0) {
        log.info("removed temporary files a crash had left beside the config", {
          path: configPath,
          files: removed,
        });
      }
    } finally {
      lock.release();
    }
  } catch {
    // nothing to see (a missing directory), or nowhere to look: nothing left to remove here
  }
}

/** The config's real place: where a plain file's directory really is, else resolveTarget's answer. */
function whereConfigIs(configPath: string): string {
  const path = resolve(configPath);
  const isLink = (() => {
    try {
      return Deno.lstatSync(path).isSymlink;
    } catch {
      return false; // missing: where it would be created
    }
  })();
  if (isLink) return resolveTarget(path);
  return join(Deno.realPathSync(dirname(path)), basename(path));
}
