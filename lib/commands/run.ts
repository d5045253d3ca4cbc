// lib/commands/run.ts: `run`, the agent's life: enroll if needed (enroll.ts), give up what only
// start-up needed (permissions.ts), then report until a signal or a rejected sensor token, saving
// a rotated token and the host binding on the way (credentials.ts).
import { backendFor, runHeartbeats } from "../backend/mod.ts";
import { ExitCode } from "../errors.ts";
import { collectSnapshot } from "../host/mod.ts";
import { isLogged, log } from "../log.ts";
import type { CommandContext } from "./context.ts";
import { bindingSaverFor, tokenStoreFor } from "./credentials.ts";
import { ensureEnrolled } from "./enroll.ts";

/**
 * `run`: enrolls if needed, then beats until a signal (0) or a rejected sensor token (77). A
 * restart with a persisted token starts at the default interval until the backend says otherwise.
 */
export async function runCommand(ctx: CommandContext): Promise<ExitCode> {
  const enrolled = await ensureEnrolled(ctx, "run");
  if (enrolled === undefined) return ExitCode.ok;
  const { config } = enrolled;
  // Loaded here, not at start: the enrollment before never needs them (time-to-enrolled). The
  // heartbeat loop is loaded by its first call, below.
  const { dropStartupPermissions, logRemainingPermissions } = await import("./permissions.ts");
  const backend = await backendFor(config);
  const dropped = await dropStartupPermissions(config);
  if (dropped.length > 0) {
    log.debug("dropped permissions no longer needed", { dropped: dropped.join(",") });
  } else {
    log.debug("kept every permission: Deno reads /proc and /sys only for a process holding all");
  }
  if (isLogged("debug")) await logRemainingPermissions(config); // a dozen queries, for one line
  try {
    return await runHeartbeats({
      backend,
      sensorToken: enrolled.sensorToken,
      hostBinding: enrolled.hostBinding,
      tokenStore: tokenStoreFor(ctx, enrolled),
      onFirstAccepted: bindingSaverFor(ctx, enrolled),
      sensorLabel: config.sensorId,
      intervalSeconds: enrolled.intervalSeconds,
      snapshot: (signal) => collectSnapshot(config, signal),
      signal: ctx.signal,
    });
  } finally {
    backend.client?.close();
  }
}
