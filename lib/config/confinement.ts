// lib/config/confinement.ts: where a path setting really leads (docs/configuration.md). Deno checks
// a read against the path string before the kernel follows links, so a setting that names a granted
// path can still lead through a symlink out of the granted directory, through procfs's magic links
// (`<proc>/self/root/...`) to any file, or onto one of the agent's own secret files. Each path
// setting is therefore resolved first, judged by where it ends up, and read there. Pure: the
// machine is seen through a PathProbe.
import { configError } from "../errors.ts";
import type { PathProbe } from "../store/mod.ts";
import { normalize } from "../paths.ts";
import type { ConfigKey, Setting, Settings } from "./settings.ts";

/** Where no path setting may lead. */
export interface Confines {
  /** procfs and sysfs: /proc, /sys and the roots the agent reads them at. */
  readonly pseudoFileSystems: readonly string[];
  /** The agent's secret files, resolved, with what each is ("the config file"). */
  readonly secretFiles: ReadonlyMap<string, string>;
}

/** True when `path` is `directory` or lies below it (both absolute and normalized). */
export function isWithin(path: string, directory: string): boolean {
  const dir = directory.endsWith("/") ? directory : `${directory}/`;
  return path === directory || path.startsWith(dir) || directory === "/";
}

/**
 * Why `resolved` is no place for a setting to lead, or undefined when it is fine: inside procfs
 * or sysfs, onto a secret file, or outside what the read grant names.
 */
export function confinementProblem(
  resolved: string,
  confines: Confines,
  canRead: (path: string) => boolean,
): string | undefined {
  if (!resolved.startsWith("/")) return "not a file (a socket, pipe or anonymous file)";
  const pseudo = confines.pseudoFileSystems.find((root) => isWithin(resolved, root));
  if (pseudo !== undefined) return `inside ${pseudo}, where procfs or sysfs is mounted`;
  const secret = confines.secretFiles.get(resolved);
  if (secret !== undefined) return `${secret} itself, which holds a token`;
  if (!canRead(resolved)) return "outside what this build's permission set may read";
  return undefined;
}

/**
 * The path to read for `key`: the setting's value with every link followed. Throws the 78 naming
 * the variable, where it came from and the resolved target when that target breaks a confine
 * (confinementProblem). A path that does not exist is returned as it is: reading it fails later.
 */
export function confinedPath(
  key: ConfigKey,
  setting: Setting,
  probe: PathProbe,
  confines: Confines,
): string {
  const resolved = probe.realPath(setting.value);
  // Missing now: read later by this spelling, which must then still resolve to itself.
  if (resolved === undefined) return normalize(setting.value);
  const problem = confinementProblem(resolved, confines, (path) => probe.canRead(path));
  if (problem === undefined) return resolved;
  const leads = resolved === setting.value ? "" : ` (it resolves to ${resolved})`;
  throw configError(
    `${key} from ${setting.source} names ${setting.value}${leads}: ${problem}`,
    `Point ${key} at a regular file of its own inside the locations the permission set grants`,
  );
}

/** Where procfs and sysfs may be mounted: no path setting may lead there. */
export function pseudoFileSystems(settings: Settings): string[] {
  const roots = ["/proc", "/sys", "/host/proc", "/host/sys"];
  for (const key of ["HOST_PROC", "HOST_SYS"] as const) {
    const value = settings.get(key)?.value;
    if (value?.startsWith("/") && value !== "/") roots.push(value.replace(/\/+$/, ""));
  }
  return [...new Set(roots)];
}
