// lib/store/mod.ts: files on disk, safely (docs/configuration.md, Files the agent reads; What the
// agent writes). Owns judging a file from its stat before it is opened, reading small files by role
// and size, where a file really is (every link followed) and whether this process may read it, the
// lock beside the config, the atomic replace and the check that it will succeed, and the temporary
// files a crash left. Never talks to the network, and knows no file's grammar: callers hand it text
// and get bytes back.
//
// Reading is loaded with the folder: every command reads. Locking and writing are loaded when first
// called, so the commands that only look (inventory, status) never evaluate them.
import type { ConfigLock } from "./configlock.ts";
import type { Rewrite } from "./persist.ts";

export {
  type FileFacts,
  type FileRole,
  sizeText,
  tooLarge,
  type Unfit,
  unfitness,
  type UnfitReason,
} from "./filecheck.ts";
export { type ReadRules, readSmallFile, UnfitFileError } from "./smallfile.ts";
export { type PathProbe, processProbe, statOrUndefined, targetOrPath } from "./location.ts";
export { removeLeftovers } from "./leftovers.ts";
export type { ConfigLock, Rewrite };

/** Takes the config's lock, or gives up (undefined) as soon as `signal` stops the agent. */
export async function lockConfigUnlessStopped(
  configPath: string,
  signal: AbortSignal,
): Promise<ConfigLock | undefined> {
  return await (await import("./configlock.ts")).lockConfigUnlessStopped(configPath, signal);
}

/** Throws enroll's 73 when the config, where it really is, lies outside the write grant. */
export async function checkConfigTarget(configPath: string): Promise<void> {
  (await import("./persist.ts")).checkConfigTarget(configPath);
}

/** Throws enroll's 73 unless the config can be replaced as replaceFile will replace it. */
export async function checkWritable(configPath: string): Promise<void> {
  return await (await import("./persist.ts")).checkWritable(configPath);
}

/**
 * Replaces the config with `rewrite` of its text (unless that says nothing changes), atomically,
 * mode 0600, owner kept.
 */
export async function replaceFile(configPath: string, rewrite: Rewrite): Promise<void> {
  return await (await import("./persist.ts")).replaceFile(configPath, rewrite);
}
