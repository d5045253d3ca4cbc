// reference-backend/api/tokens.ts: the install tokens an operator minted, as the admin API lists
// and cancels them (docs/api.md): by fingerprint (`sha256:` and the first 12 hex digits of the
// token's SHA-256, as every log line names a token), never the token, which the store does not
// hold. A cancelled token can enroll nothing; a used one cannot be cancelled (revoke its sensor).
import { log } from "../../lib/log.ts";
import { HttpError, ok } from "../http/mod.ts";
import { fingerprintOfDigest, type ListedInstallToken } from "../store/mod.ts";
import { audit } from "./audit.ts";
import type { Context } from "./context.ts";
import { requireAdmin } from "./guard.ts";

/** GET /api/install-tokens: every token still kept, unused ones first, then newest first. */
export async function listInstallTokens(
  request: Request,
  options: Context,
  now: number,
  client: string,
) {
  requireAdmin(request, options, now, client);
  const tokens = await options.store.installTokens();
  const described = tokens.map((token) => describeToken(token, now));
  // The ones that can still enroll a sensor first, then the newest.
  const rank = (state: string) => state === "unused" ? 0 : 1;
  described.sort((a, b) =>
    rank(a.state) - rank(b.state) || b.createdAt.localeCompare(a.createdAt) ||
    a.fingerprint.localeCompare(b.fingerprint)
  );
  return ok({ installTokens: described });
}

/** DELETE /api/install-tokens/{fingerprint}: cancels an unused token. */
export async function cancelInstallToken(
  request: Request,
  options: Context,
  now: number,
  client: string,
  fingerprint: string,
) {
  requireAdmin(request, options, now, client);
  const result = await options.store.cancelInstallToken(fingerprint);
  if (result === "unknown") throw new HttpError(404, "no such install token (or it expired)");
  if (result === "ambiguous") {
    throw new HttpError(409, "two install tokens share this fingerprint; let them expire");
  }
  if (result === "used") {
    throw new HttpError(409, "the install token was used: revoke its sensor instead");
  }
  log.info("install token cancelled", { token: fingerprint });
  const label = result.record.label ?? result.record.note;
  await audit(
    options,
    request,
    client,
    now,
    "install-token.cancel",
    `install token sha256:${fingerprint}`,
    label === null || label === undefined ? null : `label ${label}`,
  );
  return ok({ cancelled: describeToken(result, now) });
}

/** A token as listed: fingerprint, label, note, times, state and, once used, its sensor. */
function describeToken({ digest, record }: ListedInstallToken, now: number) {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    fingerprint: fingerprintOfDigest(digest),
    label: record.label ?? null,
    note: record.note,
    createdAt: iso(record.createdAt),
    expiresAt: iso(record.expiresAt),
    state: record.consumed !== null ? "used" : record.expiresAt <= now ? "expired" : "unused",
    usedAt: record.consumed === null ? null : iso(record.consumed.at),
    sensorId: record.consumed?.sensorId ?? null,
  };
}
