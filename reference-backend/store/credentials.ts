// reference-backend/store/credentials.ts: a sensor token's life after enrollment (docs/api.md,
// POST /api/sensors/token). What a sensor record carries of it: when its token was issued, an
// admin's request to rotate, the new token issued and not yet used (sealed under the old one, so
// that a repeated request gets it again), and which token digests open the record. A request made
// with the new token promotes it: from then on the old one opens nothing. Types and pure
// functions; the writes, with the token index kept in step, are beats.ts's.
import type { BindingsSeen } from "./bindings.ts";
import type { Sealed } from "./tokens.ts";

/** A sensor token older than this many days is asked to rotate, unless configured otherwise. */
export const DEFAULT_TOKEN_MAX_AGE_DAYS = 90;

/** A new sensor token issued by a rotation and not used yet. */
export interface PendingToken {
  /** SHA-256 of the new token: its ["sensor_tokens", digest] index exists from issuance on. */
  readonly digest: string;
  readonly issuedAt: number;
  /** The Sensor-Host-Binding of the request it was issued to; null when that request had none. */
  readonly binding: string | null;
  /** The new token, sealed under the old one (tokens.ts, purpose "rotation"). */
  readonly sealed: Sealed;
}

/**
 * What a sensor record holds of its credential besides `tokenDigest`. Every field is optional: a
 * record written before rotation existed has none, and reads as a token issued at enrollment,
 * never rotated, nothing requested or pending, no binding seen.
 */
export interface SensorCredential {
  /** When the token in use was issued (enrollment, or the rotation that issued it). */
  readonly tokenIssuedAt?: number;
  /** When a rotation last completed: the first request made with its new token. */
  readonly lastRotatedAt?: number | null;
  /** When an admin asked for a rotation that has not completed yet. */
  readonly rotationRequestedAt?: number | null;
  readonly pendingToken?: PendingToken | null;
  /** The host bindings seen with the token in use (bindings.ts). */
  readonly bindings?: BindingsSeen | null;
}

/** The fields of a sensor record the functions below read. */
export interface CredentialHolder extends SensorCredential {
  readonly tokenDigest: string;
  readonly enrolledAt: number;
  readonly revokedAt: number | null;
}

/** True when a request made with the token of `tokenDigest` speaks for `sensor`. */
export function opens(sensor: CredentialHolder, tokenDigest: string): boolean {
  return sensor.revokedAt === null &&
    (sensor.tokenDigest === tokenDigest || sensor.pendingToken?.digest === tokenDigest);
}

/** The digests whose ["sensor_tokens", digest] index must lead to `sensor`: none once revoked. */
export function tokenDigests(sensor: CredentialHolder): string[] {
  if (sensor.revokedAt !== null) return [];
  const pending = sensor.pendingToken?.digest;
  return pending === undefined ? [sensor.tokenDigest] : [sensor.tokenDigest, pending];
}

/**
 * `sensor` as a request made at `now` with the token of `tokenDigest` leaves it: when that is the
 * pending token, the rotation completes (the new token is the token, the old one is dropped, the
 * admin's request is done, and the bindings start afresh with the new token). Otherwise `sensor`
 * itself, the same object.
 */
export function settle<S extends CredentialHolder>(sensor: S, tokenDigest: string, now: number): S {
  const pending = sensor.pendingToken;
  if (pending === undefined || pending === null || pending.digest !== tokenDigest) return sensor;
  return {
    ...sensor,
    tokenDigest,
    tokenIssuedAt: pending.issuedAt,
    lastRotatedAt: now,
    rotationRequestedAt: null,
    pendingToken: null,
    bindings: null,
  };
}

/** When the token in use was issued. */
export function tokenIssuedAt(sensor: CredentialHolder): number {
  return sensor.tokenIssuedAt ?? sensor.enrolledAt;
}

/**
 * True when the next request made with the sensor's current token is to be told to rotate: a new
 * token waits to be collected (the last reply may have been lost, or its save failed), an admin
 * asked, or the token is older than `maxAgeMs` (0: no age limit). Never for a revoked sensor.
 */
export function rotationDue(sensor: CredentialHolder, now: number, maxAgeMs: number): boolean {
  if (sensor.revokedAt !== null) return false;
  if (sensor.pendingToken != null || sensor.rotationRequestedAt != null) return true;
  return maxAgeMs > 0 && now - tokenIssuedAt(sensor) > maxAgeMs;
}

/** True when the reply to a request made with `tokenDigest` carries `rotateSensorToken: true`. */
export function asksRotation(
  sensor: CredentialHolder,
  tokenDigest: string,
  now: number,
  maxAgeMs: number,
): boolean {
  return sensor.tokenDigest === tokenDigest && rotationDue(sensor, now, maxAgeMs);
}

/** `sensor` with an admin's request to rotate; itself when one is already standing. */
export function withRotationRequested<S extends CredentialHolder>(sensor: S, now: number): S {
  return sensor.rotationRequestedAt != null ? sensor : { ...sensor, rotationRequestedAt: now };
}
