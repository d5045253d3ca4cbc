// lib/commands/inventory.ts: `inventory`, what enrollment would send from this host: one look at
// the host (host/), printed as the enrollment payload. Writes nothing and sends nothing.
import { mark } from "../timing.ts";
import { enrollmentPayload } from "../backend/mod.ts";
import { ExitCode } from "../errors.ts";
import { collectSnapshot } from "../host/mod.ts";
import { warnOnce } from "../log.ts";
import { fingerprint, redact } from "../secrets.ts";
import type { CommandContext } from "./context.ts";

/** `inventory`: prints the enrollment payload as JSON, the install token shown only by fingerprint. */
export async function inventoryCommand(ctx: CommandContext): Promise<ExitCode> {
  const { config } = ctx;
  const snapshot = await collectSnapshot(config);
  mark("host");
  if (snapshot.degraded) warnOnce(snapshot.degraded);
  const payload = enrollmentPayload(
    config.installToken === undefined ? "" : `sha256:${fingerprint(config.installToken)}`,
    snapshot.facts,
    snapshot.sensorIp,
    config.sensorPort,
    snapshot.interfaces,
  );
  // redact: a host file that happens to hold a token the agent knows must not print it.
  console.log(redact(JSON.stringify(payload, null, 2)));
  return ExitCode.ok;
}
