// lib/store/location.ts: where a file really is. Deno checks permissions on the path string it is
// given, before the kernel follows links, so every file the agent reads or writes on a user's
// say-so is first resolved here and then used by its resolved path: the check and the kernel see
// one path. The rules of config/ see the machine the same way, through a PathProbe. The looks are
// synchronous: none of them can block, and each async one costs a hop to Deno's thread pool and
// back, which every command would pay several times over at start.
import { basename, dirname, isAbsolute, join, resolve } from "../paths.ts";
import type { FileFacts } from "./filecheck.ts";

/**
 * The file a write must replace, every symlink followed (in parent directories too), so a link
 * stays and its target is rewritten. A dangling link resolves to the missing target, and a
 * missing file to where it would be created.
 */
export function resolveTarget(path: string): string {
  let current = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    current = join(realDirectory(dirname(current)), basename(current));
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(current);
    } catch {
      return current; // missing: this is the file to create
    }
    if (!info.isSymlink) return current;
    const link = Deno.readLinkSync(current);
    current = isAbsolute(link) ? link : resolve(dirname(current), link);
  }
  throw new Error(`${path}: too many levels of symbolic links`);
}

/** Where the file at `path` really is (resolveTarget), or `path` when that cannot be found out. */
export function targetOrPath(path: string): string {
  try {
    return resolveTarget(path);
  } catch {
    return path;
  }
}

/** `dir` with every link followed; missing trailing components are kept as they are. */
function realDirectory(dir: string): string {
  try {
    return Deno.realPathSync(dir);
  } catch (error) {
    // Out of the read grant: nothing further can be seen, and the caller's grant check refuses it.
    if (error instanceof Deno.errors.NotCapable) return dir;
    if (!(error instanceof Deno.errors.NotFound) || dir === "/") throw error;
    return join(realDirectory(dirname(dir)), basename(dir));
  }
}

/** `path` with every link followed, or undefined when it does not exist or cannot be resolved. */
export function realPathOrUndefined(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

/** What `path` is, every link followed, or undefined when it cannot be seen. Never opens it. */
export function statOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * What rules about paths need to know of the machine (the confinement and root rules of config/),
 * behind an interface so they stay pure.
 */
export interface PathProbe {
  /** True when the permission set lets the agent read `path`. */
  canRead(path: string): boolean;
  /** True when `path` exists and may be looked at. */
  exists(path: string): boolean;
  /** `path` with every link followed, or undefined when it does not exist or cannot be resolved. */
  realPath(path: string): string | undefined;
  /** What `path` is, every link followed, without opening it; undefined when it cannot be seen. */
  stat(path: string): (FileFacts & { readonly isDirectory: boolean }) | undefined;
}

/** The probe of the running process: Deno's permission state and the file system. */
export const processProbe: PathProbe = {
  canRead: (path) => Deno.permissions.querySync({ name: "read", path }).state === "granted",
  exists: (path) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  realPath: realPathOrUndefined,
  stat: statOrUndefined, // never opens, so a FIFO cannot block it
};
