// lib/commands/dispatch.ts: from a parsed command line to its command's exit code. Logging as the
// environment asks, enroll's first check, what a crash left removed, the configuration loaded once
// for every command, and then the command, loaded only when it runs: no module is evaluated that
// the command does not use.
import { loadConfig, readEnvironment } from "../config/mod.ts";
import type { ExitCode } from "../errors.ts";
import type { CommandContext } from "./context.ts";
import { isLogged, log, LOG_FORMATS, LOG_LEVELS, setLogOptions } from "../log.ts";
import { checkConfigTarget, removeLeftovers } from "../store/mod.ts";
import { mark, timingFields } from "../timing.ts";
import type { Invocation } from "./args.ts";

/**
 * Applies LOG_FORMAT and LOG_LEVEL from the environment before the config is read, so that even a
 * configuration error comes out as a JSON line where JSON was asked for. The file's values (and
 * their validation) take over once the config has loaded.
 */
function logAsTheEnvironmentAsks(): void {
  const env = readEnvironment();
  const format = LOG_FORMATS.find((f) => f === env.LOG_FORMAT);
  const level = LOG_LEVELS.find((l) => l === env.LOG_LEVEL);
  if (format) setLogOptions({ format });
  if (level) setLogOptions({ level });
}

/**
 * Runs the command `invocation` names with the config at `configPath`, until it ends or `signal`
 * stops it; returns its exit code, or throws the AgentError that says why it could not run.
 */
export async function runInvocation(
  invocation: Invocation,
  configPath: string,
  signal: AbortSignal,
): Promise<ExitCode> {
  mark("loaded");
  logAsTheEnvironmentAsks();
  // enroll's 73 first: a config reached through a link out of the grant means nothing is sent.
  if (invocation.command === "enroll") await checkConfigTarget(configPath);
  // What a crash left beside the config (a temporary file holding a sensor token) goes first,
  // whatever the command, and whatever the config then turns out to be.
  await removeLeftovers(configPath);
  mark("leftovers");
  // Loaded once here, for every command; only enrollment reads it again, under the lock.
  const config = await loadConfig(configPath);
  const ctx = { configPath, config, signal };
  setLogOptions({ level: config.logLevel, format: config.logFormat });
  if (config.backendUrl?.protocol === "http:" && ["run", "enroll"].includes(invocation.command)) {
    log.warn("BACKEND_URL uses http://: tokens travel unencrypted; use https:// outside a lab", {
      backend: config.backendUrl.href,
    });
  }
  mark("config");
  const code = await runCommand(invocation, ctx);
  mark("done");
  if (isLogged("debug")) log.debug("timing (ms since the program started)", timingFields());
  return code;
}

async function runCommand(invocation: Invocation, ctx: CommandContext): Promise<ExitCode> {
  switch (invocation.command) {
    case "enroll":
      return await (await import("./enroll.ts")).enrollCommand(ctx, invocation.force);
    case "inventory":
      return await (await import("./inventory.ts")).inventoryCommand(ctx);
    case "status":
      return await (await import("./status.ts")).statusCommand(ctx, invocation.check);
    default:
      return await (await import("./run.ts")).runCommand(ctx);
  }
}
