// lib/secrets.ts: how a token is named in output without being shown (docs/protocol.md, Secrets).
import { hex, sha256 } from "./sha256.ts";

/** The first 12 hex digits of the token's SHA-256: enough to tell tokens apart, useless to replay. */
export function fingerprint(token: string): string {
  return hex(sha256(new TextEncoder().encode(token))).slice(0, 12);
}

const known = new Set<string>();

/**
 * Remembers a token so that `redact` hides it wherever it appears. Every token the agent reads or
 * receives is registered before anything can print it.
 */
export function registerSecret(token: string | undefined): void {
  // Very short values would mask ordinary words; the contract's tokens are at least 8 characters.
  if (token !== undefined && token.length >= 4) known.add(token);
}

/** Returns `text` with every registered token replaced by `sha256:<fingerprint>`. */
export function redact(text: string): string {
  let out = text;
  for (const token of known) {
    if (out.includes(token)) out = out.replaceAll(token, `sha256:${fingerprint(token)}`);
  }
  return out;
}
