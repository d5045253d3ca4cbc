// lib/commands/credentials.ts: what `run` does with the env file once it reports: saves a rotated
// sensor token (backend/'s TokenStore) and adds the host binding to a file enrolled before bindings
// existed, each under the config lock, as enrollment saves (docs/configuration.md, What the agent
// writes).
import type { TokenStore } from "../backend/mod.ts";
import { saveHostBinding, saveRotatedSensorToken } from "../config/mod.ts";
import { describe } from "../errors.ts";
import { log } from "../log.ts";
import { lockConfigUnlessStopped } from "../store/mod.ts";
import type { CommandContext } from "./context.ts";
import type { Enrolled } from "./enroll.ts";

/** Runs `save` under the config lock (or without it, where none can be taken: it says why). */
async function underLock(ctx: CommandContext, signal: AbortSignal, save: () => Promise<void>) {
  const lock = await lockConfigUnlessStopped(ctx.configPath, signal);
  if (lock === undefined) throw new Error("stopped by a signal while waiting for the config lock");
  try {
    await save();
  } finally {
    lock.release();
  }
}

/**
 * Where a rotated token goes: the env file that holds the token in use. Where the next start reads
 * the token from elsewhere, no new token could be saved for it, so none is asked for.
 */
export function tokenStoreFor(ctx: CommandContext, enrolled: Enrolled): TokenStore {
  const save = (current: string, next: string, signal: AbortSignal) =>
    underLock(ctx, signal, () => saveRotatedSensorToken(ctx.configPath, current, next));
  switch (enrolled.tokenHome) {
    case "file":
      return { save };
    case "environment":
      return {
        unsavable: "SENSOR_TOKEN is set in the environment, where the agent cannot save a new " +
          `one (keep SENSOR_TOKEN in ${ctx.configPath} instead)`,
        save,
      };
    default:
      return {
        unsavable: `the sensor token is not in ${ctx.configPath} (its save failed at enrollment)`,
        save,
      };
  }
}

/**
 * The first accepted beat's work for a file enrolled before bindings existed: SENSOR_HOST_BINDING
 * written beside its token. A failure is a warning; the next start tries again. Never throws.
 */
export function bindingSaverFor(
  ctx: CommandContext,
  enrolled: Enrolled,
): ((sensorToken: string) => Promise<void>) | undefined {
  const binding = enrolled.hostBinding;
  if (binding === undefined || enrolled.bindingSaved || enrolled.tokenHome !== "file") {
    return undefined;
  }
  return async (sensorToken) => {
    try {
      await underLock(ctx, ctx.signal, () => saveHostBinding(ctx.configPath, sensorToken, binding));
      log.info("host binding saved beside the sensor token", { path: ctx.configPath });
    } catch (error) {
      if (ctx.signal.aborted) return;
      log.warn("the host binding could not be saved; the agent tries again at its next start", {
        path: ctx.configPath,
        reason: describe(error),
      });
    }
  };
}
