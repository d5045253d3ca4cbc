// reference-backend/store/tokens.ts: the backend's secrets. Random tokens, the SHA-256 digests that
// are all the store keeps of them, and the sealing of a sensor token under the token it was issued
// for (HKDF from that token, then AES-GCM): the install token for the enrollment replay window, the
// old sensor token for a rotation not yet completed. A reader of the store cannot open either.
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

/** A secret encrypted under a key only the holder of another token can derive. */
export interface Sealed {
  readonly salt: Uint8Array<ArrayBuffer>;
  readonly iv: Uint8Array<ArrayBuffer>;
  readonly ciphertext: Uint8Array<ArrayBuffer>;
}

const encoder = new TextEncoder();

/**
 * What a sealed secret is kept for: the key's HKDF label differs, so a secret sealed for one cannot
 * be opened as the other even under the same token.
 */
export type SealPurpose = "enrollment" | "rotation";

const HKDF_INFO: Record<SealPurpose, Uint8Array<ArrayBuffer>> = {
  enrollment: encoder.encode("ravenxcope reference backend: enrollment replay v1"),
  rotation: encoder.encode("ravenxcope reference backend: token rotation v1"),
};

/** AES-256-GCM key from `token` by HKDF-SHA-256 (the store holds only the token's digest). */
async function sealingKey(
  token: string,
  salt: Uint8Array<ArrayBuffer>,
  purpose: SealPurpose,
): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(token), "HKDF", false, [
    "deriveKey",
  ]);
  return await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt, info: HKDF_INFO[purpose] },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/**
 * Encrypts `secret` under a key derived from `token` (the install token, or for a rotation the old
 * sensor token); `context` (the sensor id) is authenticated with it, so a sealed token cannot be
 * moved to another sensor's record.
 */
export async function seal(
  secret: string,
  token: string,
  context: string,
  purpose: SealPurpose = "enrollment",
): Promise<Sealed> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await sealingKey(token, salt, purpose);
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    key,
    encoder.encode(secret),
  );
  return { salt, iv, ciphertext: new Uint8Array(ciphertext) };
}

/** The secret `seal` encrypted; throws when the token, the context or the purpose differ. */
export async function unseal(
  sealed: Sealed,
  token: string,
  context: string,
  purpose: SealPurpose = "enrollment",
): Promise<string> {
  const key = await sealingKey(token, sealed.salt, purpose);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: sealed.iv, additionalData: encoder.encode(context) },
    key,
    sealed.ciphertext,
  );
  return new TextDecoder().decode(plain);
}
