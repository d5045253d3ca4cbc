// tests/support/cgroup.ts: a cgroup v2 subtree of the test's own, for the systemd of a container
// (systemd_container.ts) to manage: where this process may make one, and removing it with all
// that systemd made below it.
import { join } from "node:path";

/**
 * This process's own cgroup v2 directory, where the container's subtree is made: the unified tree
 * at /sys/fs/cgroup, or at /sys/fs/cgroup/unified in the hybrid layout.
 */
export async function ownCgroup(): Promise<string | undefined> {
  const line = (await Deno.readTextFile("/proc/self/cgroup")).split("\n")
    .find((l) => l.startsWith("0::"));
  if (line === undefined) return undefined;
  for (const root of ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]) {
    const dir = join(root, line.slice(3));
    try {
      await Deno.stat(join(dir, "cgroup.procs"));
      if ((await Deno.stat(join(root, "cgroup.controllers"))).isFile) return dir;
    } catch {
      // not this layout
    }
  }
  return undefined;
}

/** Removes a cgroup and everything systemd made below it, deepest first, once it is empty. */
export async function removeCgroup(path: string): Promise<void> {
  const dirs: string[] = [];
  const walk = async (at: string) => {
    dirs.push(at);
    for await (const entry of Deno.readDir(at)) {
      if (entry.isDirectory) await walk(join(at, entry.name));
    }
  };
  try {
    await walk(path);
  } catch {
    return; // never made
  }
  for (const at of dirs.reverse()) {
    // Its processes take a moment to leave once killed; after 5 s it is left as it is.
    for (const end = performance.now() + 5_000; performance.now() < end;) {
      try {
        await Deno.remove(at);
        break;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) break;
      }
      await new Promise((done) => setTimeout(done, 50));
    }
  }
}
