// lib/config/hostroots.ts: where HOST_PROC and HOST_SYS may lead (docs/configuration.md, Settings;
// docs/threat-model.md). The agent reads a few files under each root, and Deno checks those reads
// against the path string before the kernel follows any link. So a root is judged by the files it
// holds: each must be granted, must resolve where it is named (procfs's own `net -> self/net` link
// aside), and must be the kind of file the agent opens, found without opening it. And the grant
// must be one made for the root: the set grants <root>/net/dev, not <root>/net, as the shipped set
// does. A root inside a directory granted whole (the config directory) is no such root: anything
// could be put there. Pure: the machine is seen through a PathProbe.
import type { PathProbe } from "../store/mod.ts";
import { join } from "../paths.ts";

/** Where the host's procfs and sysfs are read (docs/protocol.md, Interfaces). */
export interface HostRoots {
  readonly proc: string;
  readonly sys: string;
}

/** The two root settings. */
export type RootKey = "HOST_PROC" | "HOST_SYS";

/** What kind of file system each root holds, for messages. */
const KIND: Record<RootKey, string> = { HOST_PROC: "procfs", HOST_SYS: "sysfs" };

/**
 * The roots Deno guards itself: a path under /proc or /sys is read only by a process that holds
 * every permission, whatever its grant says, and those are the kernel's own mounts.
 */
const GUARDED: Record<RootKey, string> = { HOST_PROC: "/proc", HOST_SYS: "/sys" };

/** A file the agent reads under a root, and whether it is a directory. */
export interface RootFile {
  readonly path: string;
  readonly directory: boolean;
}

/** The files the agent reads under `root` (docs/protocol.md, Interfaces), the first one required. */
export function filesUnder(key: RootKey, root: string): RootFile[] {
  return key === "HOST_PROC"
    ? [
      { path: join(root, "net", "dev"), directory: false },
      { path: join(root, "net", "route"), directory: false },
    ]
    : [{ path: join(root, "class", "net"), directory: true }];
}

/** The files procfs and sysfs are read through under `roots` (docs/protocol.md, Interfaces). */
export function hostRootFiles(roots: HostRoots): { procFiles: string[]; sysDirectory: string } {
  return {
    procFiles: filesUnder("HOST_PROC", roots.proc).map((file) => file.path),
    sysDirectory: filesUnder("HOST_SYS", roots.sys)[0].path,
  };
}

/** The directory around those files, which a grant made for the root does not cover. */
function around(key: RootKey, root: string): string {
  return key === "HOST_PROC" ? join(root, "net") : join(root, "class");
}

/**
 * True when `resolved` is where `path`, a file under the procfs or sysfs `root`, may really be:
 * the path itself, or the same file under the reader's own `<root>/<pid>` (procfs's `net` is a link
 * to `self/net`, and `self` to the reader's pid).
 */
export function leadsWhereNamed(root: string, path: string, resolved: string): boolean {
  if (resolved === path) return true;
  if (!path.startsWith(`${root}/`)) return false;
  const rest = path.slice(root.length); // "/net/dev"
  const pid = resolved.slice(root.length, resolved.length - rest.length); // "/1234"
  return resolved.startsWith(`${root}/`) && resolved.endsWith(rest) && /^\/[1-9]\d*$/.test(pid);
}

/**
 * Why `root` (absolute, normalized) is not a root the permission set grants for `key`, or
 * undefined when it is. The problem names the file that breaks the rule and where it leads.
 */
export function rootProblem(key: RootKey, root: string, probe: PathProbe): string | undefined {
  if (root === GUARDED[key]) return undefined;
  const files = filesUnder(key, root);
  if (!probe.canRead(files[0].path)) {
    return `this build's permission set does not allow reading ${files[0].path}`;
  }
  for (const file of files.filter((f) => probe.canRead(f.path))) {
    const resolved = probe.realPath(file.path);
    if (resolved === undefined) continue; // missing: the inventory says so when it reads
    if (!leadsWhereNamed(root, file.path, resolved)) {
      return `${file.path} leads to ${resolved}, not to a ${KIND[key]} file under ${root}`;
    }
    const facts = probe.stat(file.path);
    if (facts !== undefined && (file.directory ? !facts.isDirectory : !facts.isFile)) {
      return `${file.path} is not a ${file.directory ? "directory" : "regular file"}`;
    }
  }
  // Where every path may be read (-A), no grant was made for anything: nothing more to judge.
  if (!probe.canRead("/") && probe.canRead(around(key, root))) {
    return `the permission set grants all of ${
      around(key, root)
    }, so ${root} is not a root it grants for ${
      KIND[key]
    } (it grants a root's files, not the directory around them)`;
  }
  return undefined;
}
