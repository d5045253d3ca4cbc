// lib/commands/context.ts: what every command is given when it starts (dispatch.ts).
import type { Config } from "../config/mod.ts";

/** What every command is given: the config as loaded and checked, and the agent's stop signal. */
export interface CommandContext {
  readonly configPath: string;
  /** The configuration loaded (and checked) before the command began. */
  readonly config: Config;
  /** Aborted by SIGTERM/SIGINT: in-flight requests stop, the command returns 0. */
  readonly signal: AbortSignal;
}
