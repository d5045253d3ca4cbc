// reference-backend/api/enrollment.ts: trading an install token for a sensor token
// (docs/protocol.md). One-time consumption rests on the store's atomic check; a request that loses
// the race, or retries after a lost reply, gets the winner's credential back only with the same
// Idempotency-Key within the replay window.
import type { EnrollmentPayload } from "../../lib/backend/mod.ts";
import {
  type Consumption,
  digest,
  type InstallTokenRecord,
  randomToken,
  REPLAY_WINDOW_MS,
  sameSecret,
  seal,
  type SensorRecord,
  type Store,
  unseal,
} from "../store/mod.ts";

/** A credential (new or replayed), or why the install token was refused (for the log, not the reply). */
export type EnrollResult =
  | {
    readonly kind: "enrolled";
    readonly sensorId: string;
    readonly sensorToken: string;
    readonly replayed: boolean;
  }
  | { readonly kind: "refused"; readonly why: string };

// Two rounds are enough: a lost race re-reads the record, which is then consumed for good.
const ROUNDS = 3;

/** Enrolls the sensor described by `payload`, judging the install token by the server clock `now`. */
export async function enroll(
  store: Store,
  payload: EnrollmentPayload,
  idempotencyKey: string | undefined,
  now: number,
): Promise<EnrollResult> {
  const installDigest = digest(payload.installToken);
  const keyDigest = idempotencyKey === undefined ? null : digest(idempotencyKey);
  for (let round = 0; round < ROUNDS; round++) {
    const entry = await store.installToken(installDigest);
    if (entry.versionstamp === null) return refused("unknown install token");
    const record: InstallTokenRecord = entry.value;
    if (record.consumed !== null) {
      return await replay(store, payload.installToken, record.consumed, keyDigest, now);
    }
    if (record.expiresAt <= now) return refused("expired install token");
    const sensorToken = randomToken();
    const sensor = {
      ...newSensor(payload, digest(sensorToken), installDigest, now),
      // The label the token was minted for, until the sensor's first beat says its SENSOR_ID.
      label: record.label ?? null,
    };
    const consumption = { at: now, sensorId: sensor.id, idempotencyKeyDigest: keyDigest };
    const replayRecord = keyDigest === null ? undefined : {
      sensorId: sensor.id,
      sealedSensorToken: await seal(sensorToken, payload.installToken, sensor.id),
    };
    const update = { sensor, interfaces: payload.interfaces };
    if (await store.consume(entry, consumption, update, replayRecord)) {
      return { kind: "enrolled", sensorId: sensor.id, sensorToken, replayed: false };
    }
    // Another request consumed the token between our read and our write: read it again.
  }
  return refused("install token record kept changing");
}

/**
 * Why a request carrying an Idempotency-Key with SHA-256 `keyDigest` may not have the credential of
 * `consumption` again at `now`, or undefined when it may (docs/protocol.md). Pure.
 */
export function replayRefusal(
  consumption: Consumption,
  keyDigest: string | null,
  now: number,
): string | undefined {
  if (keyDigest === null) return "install token already used (no Idempotency-Key)";
  if (consumption.idempotencyKeyDigest === null) {
    return "install token already used by a request without Idempotency-Key";
  }
  if (!sameSecret(keyDigest, consumption.idempotencyKeyDigest)) {
    return "install token already used with another Idempotency-Key";
  }
  if (now - consumption.at > REPLAY_WINDOW_MS) {
    return "install token already used, and the replay window has closed";
  }
  return undefined;
}

async function replay(
  store: Store,
  installToken: string,
  consumption: Consumption,
  keyDigest: string | null,
  now: number,
): Promise<EnrollResult> {
  const refusal = replayRefusal(consumption, keyDigest, now);
  if (refusal !== undefined) return refused(refusal);
  const [record, sensor] = await Promise.all([
    store.replay(digest(installToken)),
    store.sensor(consumption.sensorId),
  ]);
  // Revocation deletes the replay record; the check on the sensor covers a revocation in between.
  if (record === null || sensor === null || sensor.revokedAt !== null) {
    return refused("install token already used, and its sensor was revoked");
  }
  const sensorToken = await unseal(record.sealedSensorToken, installToken, consumption.sensorId);
  // A rotation completed since (the first token was used, so it reached its host): the first
  // token opens nothing any more, and handing it out would only make a sensor that is refused.
  if (digest(sensorToken) !== sensor.tokenDigest) {
    return refused("install token already used, and its sensor's token was rotated since");
  }
  return { kind: "enrolled", sensorId: consumption.sensorId, sensorToken, replayed: true };
}

function newSensor(
  payload: EnrollmentPayload,
  tokenDigest: string,
  installTokenDigest: string,
  now: number,
): SensorRecord {
  return {
    id: crypto.randomUUID(),
    label: null,
    hostname: payload.hostname,
    osInfo: payload.osInfo,
    architecture: payload.architecture,
    agentVersion: payload.agentVersion,
    sensorIp: payload.sensorIp,
    sensorPort: payload.sensorPort,
    sudoUser: payload.sudoUser,
    enrolledAt: now,
    lastSeenAt: now,
    heartbeats: 0,
    uptimeSeconds: null,
    interfaceCount: payload.interfaces.length,
    interfaceSlices: 0, // the store counts them as it writes them
    revokedAt: null,
    tokenDigest,
    installTokenDigest,
  };
}

function refused(why: string): EnrollResult {
  return { kind: "refused", why };
}
