// reference-backend/store/endings.ts: the two ends of a sensor in the store: revocation (its record
// kept, marked revoked, every token that opened it refused) and removal (its record and everything
// kept for it deleted). Each writes with a check on the record it judged, and reads again when a
// beat changed it meanwhile; the caller (kv.ts) drops the tokens from the heartbeat's memory and
// brings the fleet's index up to the write.
import { tokenDigests } from "./credentials.ts";
import { Contended, MAX_ATTEMPTS, type SensorRecord } from "./records.ts";

/** A write that ended a sensor: the record as it was written or removed, and what it ended. */
export interface Ending {
  readonly sensor: SensorRecord;
  /** The commit's versionstamp; undefined when nothing was written (already revoked). */
  readonly versionstamp?: string;
  /** The digests of the tokens that opened the sensor until then. */
  readonly tokens: readonly string[];
}

/** Revokes the sensor `id` at `now`; null if unknown. */
export async function revokeRecord(kv: Deno.Kv, id: string, now: number): Promise<Ending | null> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const entry = await kv.get<SensorRecord>(["sensors", id]);
    if (entry.value === null) return null;
    if (entry.value.revokedAt !== null) return { sensor: entry.value, tokens: [] };
    const revoked = { ...entry.value, revokedAt: now };
    const tokens = tokenDigests(entry.value); // the token in use, and a rotation's new one
    const op = kv.atomic().check(entry).set(entry.key, revoked);
    for (const tokenDigest of tokens) op.delete(["sensor_tokens", tokenDigest]);
    const result = await op.delete(["replays", revoked.installTokenDigest]).commit();
    if (result.ok) return { sensor: revoked, versionstamp: result.versionstamp, tokens };
  }
  throw new Contended("revoke: the sensor record kept changing; giving up");
}

/**
 * Removes the sensor `id` and everything kept for it, unless `refusal` finds a reason not to in
 * the record as it is at the moment of the write: the reason then. Null if unknown.
 */
export async function removeRecord(
  kv: Deno.Kv,
  id: string,
  refusal: (sensor: SensorRecord) => string | undefined,
): Promise<Ending | string | null> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const entry = await kv.get<SensorRecord>(["sensors", id]);
    if (entry.value === null) return null;
    const why = refusal(entry.value);
    if (why !== undefined) return why;
    const sensor = entry.value;
    const tokens = tokenDigests(sensor); // the token in use, and a rotation's new one
    const op = kv.atomic()
      .check(entry)
      .delete(entry.key)
      .delete(["replays", sensor.installTokenDigest])
      .delete(["silent_sensors", id])
      .delete(["duplicate_sensors", id]);
    for (const tokenDigest of tokens) op.delete(["sensor_tokens", tokenDigest]);
    for (let n = 0; n < sensor.interfaceSlices; n++) op.delete(["sensor_interfaces", id, n]);
    const result = await op.commit();
    if (result.ok) return { sensor, versionstamp: result.versionstamp, tokens };
  }
  throw new Contended("remove: the sensor record kept changing; giving up");
}
