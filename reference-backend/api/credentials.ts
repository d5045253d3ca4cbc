// reference-backend/api/credentials.ts: a sensor's credential as the admin API shows it (docs/api.md,
// "GET /api/sensors"): how old its token is, when it last rotated, whether a rotation is asked for
// or under way, and whether two hosts beat with one token (a copied VM, a leaked env file). The
// backend keeps these in the sensor record once it rotates tokens and tells hosts apart; a record
// without them shows none of these fields, and the console, which reads them by these names, shows
// "—" and offers no rotation. Pure.
import type { SensorRecord } from "../store/mod.ts";

/** Where a token was seen beating: one host binding's last beat. */
interface SeenBinding {
  readonly binding: string;
  readonly hostname: string;
  readonly sensorIp: string;
  readonly lastSeenAt: number;
}

/** The credential fields as a record may keep them (times in ms, as the record's other times). */
interface CredentialRecord {
  readonly tokenIssuedAt?: number;
  readonly lastRotatedAt?: number | null;
  readonly rotationRequested?: boolean;
  readonly rotationPending?: boolean;
  readonly duplicate?: {
    readonly bindings: number;
    readonly firstSeenAt: number;
    readonly seen: readonly SeenBinding[];
  } | null;
}

// The API shows at most this many of the places a duplicated token was seen, newest first.
const MAX_SEEN = 8;

const iso = (ms: number) => new Date(ms).toISOString();

/** True when two different hosts have beaten with the sensor's token. */
export function isDuplicate(sensor: SensorRecord): boolean {
  const duplicate = (sensor as CredentialRecord).duplicate;
  return duplicate !== undefined && duplicate !== null;
}

/**
 * The credential fields of `sensor` at `now`: tokenIssuedAt, tokenAgeSeconds, lastRotatedAt,
 * rotationRequested, rotationPending and duplicate; none when the record keeps no tokenIssuedAt.
 */
export function credentialFields(sensor: SensorRecord, now: number): Record<string, unknown> {
  const record = sensor as CredentialRecord;
  if (typeof record.tokenIssuedAt !== "number") return {};
  const duplicate = record.duplicate ?? null;
  return {
    tokenIssuedAt: iso(record.tokenIssuedAt),
    tokenAgeSeconds: Math.max(0, Math.floor((now - record.tokenIssuedAt) / 1000)),
    lastRotatedAt: typeof record.lastRotatedAt === "number" ? iso(record.lastRotatedAt) : null,
    rotationRequested: record.rotationRequested === true,
    rotationPending: record.rotationPending === true,
    duplicate: duplicate === null ? null : {
      bindings: duplicate.bindings,
      firstSeenAt: iso(duplicate.firstSeenAt),
      seen: [...duplicate.seen]
        .sort((a, b) => b.lastSeenAt - a.lastSeenAt)
        .slice(0, MAX_SEEN)
        .map((seen) => ({
          binding: seen.binding.slice(0, 12),
          hostname: seen.hostname,
          sensorIp: seen.sensorIp,
          lastSeenAt: iso(seen.lastSeenAt),
        })),
    },
  };
}
