// reference-backend/store/tokens.ts: the backend's secrets. Random tokens, the SHA-256 digests that
// are all the store keeps of them, and the sealing of a sensor token for the enrollment replay
// window (HKDF from the install token, then AES-GCM), so a reader of the store cannot replay it.
import { createHash, timingSafeEqual } from "node:crypto";

/** A fresh token: base64url of 32 random bytes (256 bits, 43 characters of the contract's charset). */
export function randomToken(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/** The lowercase hex SHA-256 of `text`: how the store names a token without holding it. */
export function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** True when `a` and `b` have the same SHA-256, compared in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const hash = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(hash(a), hash(b));
}

/** A secret encrypted under a key only the holder of the install token can derive. */
export interface Sealed {
  readonly salt: Uint8Array<ArrayBuffer>;
  readonly iv: Uint8Array<ArrayBuffer>;
  readonly ciphertext: Uint8Array<ArrayBuffer>;
}

const encoder = new TextEncoder();
const HKDF_INFO = encoder.encode("ravenxcope reference backend: enrollment replay v1");

/** AES-256-GCM key from the install token by HKDF-SHA-256 (the store holds only its digest). */
async function replayKey(installToken: string, salt: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(installToken), "HKDF", false, [
    "deriveKey",
  ]);
  return await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt, info: HKDF_INFO },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/**
 * Encrypts `secret` under a key derived from `installToken`; `context` (the sensor id) is
 * authenticated with it, so a sealed token cannot be moved to another sensor's record.
 */
export async function seal(secret: string, installToken: string, context: string): Promise<Sealed> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await replayKey(installToken, salt);
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    key,
    encoder.encode(secret),
  );
  return { salt, iv, ciphertext: new Uint8Array(ciphertext) };
}

/** The secret `seal` encrypted; throws when the install token or the context differ. */
export async function unseal(
  sealed: Sealed,
  installToken: string,
  context: string,
): Promise<string> {
  const key = await replayKey(installToken, sealed.salt);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: sealed.iv, additionalData: encoder.encode(context) },
    key,
    sealed.ciphertext,
  );
  return new TextDecoder().decode(plain);
}
