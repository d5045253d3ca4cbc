// reference-backend/http/client.ts: who the client is. Behind the reverse proxy (deploy/backend/)
// every connection comes from the proxy, so the socket's address says nothing about the client; the
// proxy names it in X-Forwarded-For. That header is believed only on a connection from an address
// in TRUSTED_PROXIES: from anyone else it is the client's own claim, and a client choosing its
// address could dodge every per-address limit or pin one on someone else. Pure.
import { isIpAddress } from "../../lib/config/mod.ts";

/** The request's client, and whether a trusted proxy failed to say who it was. */
export interface Client {
  readonly address: string;
  /** True when a trusted proxy sent no usable X-Forwarded-For: the proxy's address stands in. */
  readonly unnamed: boolean;
}

/**
 * The client of a request that came from `peer` (the socket's address): the last entry of
 * X-Forwarded-For, the one the proxy itself wrote, when `peer` is a trusted proxy; else `peer`.
 */
export function clientOf(request: Request, peer: string, trusted: ReadonlySet<string>): Client {
  if (!trusted.has(canonicalAddress(peer))) return { address: peer, unnamed: false };
  // Entries before the last were written by whoever the proxy's own client was: never believed.
  const named = request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim() ?? "";
  if (!isIpAddress(named)) return { address: peer, unnamed: true };
  return { address: canonicalAddress(named), unnamed: false };
}

/**
 * TRUSTED_PROXIES's value (addresses separated by commas or blanks) as canonical addresses, or the
 * first entry that is not an IP address (for the settings' error).
 */
export function parseTrustedProxies(text: string): { addresses: Set<string> } | { bad: string } {
  const addresses = new Set<string>();
  for (const entry of text.split(/[\s,]+/).filter((part) => part !== "")) {
    if (!isIpAddress(entry)) return { bad: entry };
    addresses.add(canonicalAddress(entry));
  }
  return { addresses };
}

/** One spelling per address: `0:0::1` and `::1` are the same client. */
function canonicalAddress(address: string): string {
  if (!address.includes(":")) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
}
