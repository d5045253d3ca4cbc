// lib/commands/mod.ts: the agent's commands (docs/configuration.md, Commands; Exit codes). Owns
// the command line, parsed strictly; what happens between it and a command (dispatch.ts); run
// (enroll if needed, then report), enroll, inventory and status, each composed from backend/,
// host/, config/ and store/; and giving up, once the agent runs, the permissions only start-up
// needed. Never holds a rule of its own about files, the host or the protocol: those live in the
// folders below, and a command only composes them.
//
// Only the parser is loaded with the folder: --help and --version load nothing else, and each
// command is loaded when it runs (dispatch.ts).
import type { ExitCode } from "../errors.ts";
import type { Invocation } from "./args.ts";

export { type Command, COMMANDS, type Invocation, parseInvocation, UsageProblem } from "./args.ts";
export type { CommandContext } from "./context.ts";

/** Runs the command `invocation` names with the config at `configPath` (dispatch.ts). */
export async function runInvocation(
  invocation: Invocation,
  configPath: string,
  signal: AbortSignal,
): Promise<ExitCode> {
  return await (await import("./dispatch.ts")).runInvocation(invocation, configPath, signal);
}
