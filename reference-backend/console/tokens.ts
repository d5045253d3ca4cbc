// reference-backend/console/tokens.ts: install tokens and the audit trail as the console shows
// them: minting a token (the reply is the only time it leaves the backend), listing them by
// fingerprint, cancelling an unused one, and reading the trail, newest first. Through the admin
// API on the session's behalf, like every other change.
import { fingerprint } from "../../lib/secrets.ts";
import { readJson } from "../http/mod.ts";
import { admin, type Call, conditional, guardChange, json, requireSession } from "./call.ts";

/**
 * POST /console/api/install-tokens `{ label?, note?, ttlSeconds? }`: mints an install token. The
 * page shows the token once, then its fingerprint only.
 */
export async function mintInstallToken(call: Call): Promise<Response> {
  const session = await guardChange(call);
  const body = await readJson(call.request);
  const minted = await admin(call, session, "POST", "/api/install-tokens", body ?? {}) as {
    installToken: string;
  };
  const { label = null, note = null } = (body ?? {}) as { label?: string; note?: string };
  return json({ ...minted, fingerprint: fingerprint(minted.installToken), label, note }, 201);
}

/** GET /console/api/install-tokens: every token still kept, by fingerprint; 304 if unchanged. */
export async function installTokens(call: Call): Promise<Response> {
  const session = await requireSession(call);
  return await conditional(call, await admin(call, session, "GET", "/api/install-tokens"));
}

/** POST /console/api/install-tokens/{fingerprint}/cancel: an unused token can enroll nothing. */
export async function cancelInstallToken(call: Call, token: string): Promise<Response> {
  const session = await guardChange(call);
  return json(await admin(call, session, "DELETE", `/api/install-tokens/${token}`));
}

/** GET /console/api/audit?limit=&cursor=: a page of the audit trail, newest first. */
export async function auditTrail(call: Call): Promise<Response> {
  const session = await requireSession(call);
  const query = new URL(call.request.url).search;
  return await conditional(call, await admin(call, session, "GET", `/api/audit${query}`));
}
