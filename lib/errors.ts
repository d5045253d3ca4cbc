// lib/errors.ts: the agent's exit codes (docs/configuration.md, Exit codes) and the one error type
// that carries them.

/** Exit codes of docs/configuration.md, Exit codes. The numbers follow BSD sysexits.h so scripts can reuse them. */
export const ExitCode = {
  ok: 0,
  notEnrolled: 1,
  usage: 64,
  unavailable: 69,
  cantCreate: 73,
  protocol: 76,
  noPermission: 77,
  config: 78,
} as const;

/** One of the exit codes above. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/**
 * A failure the user can meet: `message` says what happened, `advice` what to do. main.ts prints
 * both on one line and exits with `exitCode`. Neither may contain a token (docs/protocol.md,
 * Secrets).
 */
export class AgentError extends Error {
  constructor(readonly exitCode: ExitCode, message: string, readonly advice: string) {
    super(message);
    this.name = "AgentError";
  }
}

/** The configuration error (78) every bad variable or file ends in, naming where it came from. */
export function configError(message: string, advice: string): AgentError {
  return new AgentError(ExitCode.config, message, advice);
}

/** A short reason for an I/O error: its message, never file contents. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
