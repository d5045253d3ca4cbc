// lib/commands/permissions.ts: dropping what a long-running agent no longer needs. Once the
// configuration is read, a compromised agent should hold only read of its host roots and files,
// its config directory (where a rotated token and the host binding are saved), the system calls for
// hostname and interfaces, and the network (issue: permission-scoped runtime; docs/threat-model.md).
import { type Config, hostRootFiles } from "../config/mod.ts";
import { log } from "../log.ts";

/** The paths the heartbeat loop still reads: host identity files and the procfs/sysfs files. */
export function pathsStillRead(config: Config): string[] {
  const { procFiles, sysDirectory } = hostRootFiles(config.roots);
  return [config.hostnameFile, config.osReleaseFile, ...procFiles, sysDirectory, "/etc/os-release"];
}

/** Every kind of permission Deno lets a program query. */
const EVERY_PERMISSION: Deno.PermissionName[] = [
  "read",
  "write",
  "net",
  "env",
  "sys",
  "run",
  "ffi",
];

/**
 * True when the agent reads the host's /proc or /sys themselves and holds every permission
 * unscoped (-A): Deno lets only such a process read them, so dropping any permission would cut the
 * heartbeats off from the files enrollment read (found by tests/agent/reading_path_test.ts:
 * enrollment sent four interfaces with counters, every beat after it two with flags false and
 * counters 0).
 */
export function readsOwnRootsWithEveryPermission(config: Config): boolean {
  if (config.roots.proc !== "/proc" && config.roots.sys !== "/sys") return false;
  return EVERY_PERMISSION.every((name) =>
    Deno.permissions.querySync({ name } as Deno.PermissionDescriptor).state === "granted"
  );
}

/**
 * Revokes env for the rest of the process; returns what was revoked, for the log. Write and read of
 * the config directory stay: a rotated token and the host binding are saved there while the agent
 * reports, and a process that holds the token in memory gains nothing from rewriting the file that
 * holds it (docs/threat-model.md). Revokes nothing where that would leave the heartbeats unable to
 * read what enrollment read (readsOwnRootsWithEveryPermission): a process holding every permission
 * gains little from losing one.
 */
export async function dropStartupPermissions(config: Config): Promise<string[]> {
  if (readsOwnRootsWithEveryPermission(config)) return [];
  await Deno.permissions.revoke({ name: "env" });
  return ["env"];
}

/** One line naming what the process still holds, at debug level. */
export async function logRemainingPermissions(config: Config): Promise<void> {
  const state = async (descriptor: Deno.PermissionDescriptor) =>
    (await Deno.permissions.query(descriptor)).state;
  const reads = await Promise.all(
    pathsStillRead(config).map(async (path) => `${path}:${await state({ name: "read", path })}`),
  );
  log.debug("permissions held", {
    read: reads.join(","),
    readConfig: await state({ name: "read", path: config.configPath }),
    writeConfig: await state({ name: "write", path: config.configPath }),
    write: await state({ name: "write" }),
    env: await state({ name: "env" }),
    net: config.backendUrl ? await state({ name: "net", host: config.backendUrl.host }) : undefined,
    run: await state({ name: "run" }),
    ffi: await state({ name: "ffi" }),
  });
}
