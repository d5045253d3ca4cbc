// reference-backend/store/installs.ts: the install tokens an operator minted, as the admin API lists
// them (GET /api/install-tokens) and cancels them. The store names a token only by its SHA-256; its
// fingerprint (the first 12 hex digits of that digest, as lib/secrets.ts prints it) is how the
// operator names it back, so a cancellation finds the record by that prefix.
import type { InstallTokenRecord } from "./records.ts";

/** A minted install token as listed: its digest (never shown whole) and its record. */
export interface ListedInstallToken {
  readonly digest: string;
  readonly record: InstallTokenRecord;
}

/** Why a cancellation did not happen. */
export type CancelRefusal = "unknown" | "ambiguous" | "used";

/** The fingerprint of a token whose SHA-256 is `digest`: its first 12 hex digits. */
export function fingerprintOfDigest(digest: string): string {
  return digest.slice(0, 12);
}

/** Every install token the store still holds (unexpired, or spent within the replay window). */
export async function listInstallTokens(kv: Deno.Kv): Promise<ListedInstallToken[]> {
  const list: ListedInstallToken[] = [];
  for await (const entry of kv.list<InstallTokenRecord>({ prefix: ["install_tokens"] })) {
    list.push({ digest: String(entry.key[1]), record: entry.value });
  }
  return list;
}

/**
 * Deletes the unused install token with `fingerprint`, so that no enrollment can spend it; returns
 * its record, or why not: no such token, more than one (a 48-bit prefix: practically never), or
 * already used. The delete holds only if the record did not change meanwhile (an enrollment).
 */
export async function cancelInstallToken(
  kv: Deno.Kv,
  fingerprint: string,
): Promise<ListedInstallToken | CancelRefusal> {
  const found = (await listInstallTokens(kv)).filter((token) =>
    fingerprintOfDigest(token.digest) === fingerprint
  );
  if (found.length === 0) return "unknown";
  if (found.length > 1) return "ambiguous";
  const entry = await kv.get<InstallTokenRecord>(["install_tokens", found[0].digest]);
  if (entry.value === null) return "unknown";
  if (entry.value.consumed !== null) return "used";
  const result = await kv.atomic().check(entry).delete(entry.key).commit();
  return result.ok ? { digest: found[0].digest, record: entry.value } : "used";
}
