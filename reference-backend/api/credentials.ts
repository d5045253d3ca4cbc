// reference-backend/api/credentials.ts: a sensor's credential as requests carry it and the admin
// API shows it (docs/api.md, GET /api/sensors; Copied hosts): the Sensor-Host-Binding header of
// every request made with a sensor token, the age past which a token is asked to rotate, and the
// fields each sensor of GET /api/sensors gains: the token's age, its rotation, and whether two
// hosts use it. Pure.
import {
  bindingCount,
  DEFAULT_TOKEN_MAX_AGE_DAYS,
  isDuplicate,
  rotationDue,
  type SensorRecord,
  SHOWN_BINDING_DIGITS,
  tokenIssuedAt,
} from "../store/mod.ts";
import type { ServerOptions } from "./context.ts";

/** The header naming the host a request made with a sensor token comes from. */
export const HOST_BINDING_HEADER = "Sensor-Host-Binding";

const BINDING = /^[0-9a-f]{64}$/;
const DAY_MS = 86_400_000;

/**
 * The request's Sensor-Host-Binding when it is one (64 lowercase hex digits); null otherwise:
 * anything else counts as no binding, never as another host.
 */
export function hostBinding(request: Request): string | null {
  const value = request.headers.get(HOST_BINDING_HEADER);
  return value !== null && BINDING.test(value) ? value : null;
}

/** The age past which a sensor token is asked to rotate, in ms; 0 for no limit. */
export function tokenMaxAgeMs(options: ServerOptions): number {
  return (options.sensorTokenMaxAgeDays ?? DEFAULT_TOKEN_MAX_AGE_DAYS) * DAY_MS;
}

/** One host seen with a duplicate's token, as the admin API shows it. */
export interface HostSeen {
  /** The first SHOWN_BINDING_DIGITS digits of its binding. */
  readonly binding: string;
  readonly hostname: string;
  readonly sensorIp: string;
  readonly lastSeenAt: string;
}

/** A sensor whose token two hosts use, as the admin API shows it. */
export interface Duplicate {
  /** Distinct bindings seen with the token in use (counted up to 32). */
  readonly bindings: number;
  /** When the second one first came. */
  readonly firstSeenAt: string;
  /** The hosts, the most recently seen first, at most 8. */
  readonly seen: readonly HostSeen[];
}

/** The credential's fields of a sensor in the admin API, at `now`. */
export interface CredentialFields {
  readonly tokenIssuedAt: string;
  readonly tokenAgeSeconds: number;
  readonly lastRotatedAt: string | null;
  /** The next beat's reply asks for rotation: by the age policy, an admin, or a pending one. */
  readonly rotationRequested: boolean;
  /** A new token was issued and not used yet. */
  readonly rotationPending: boolean;
  readonly duplicate: Duplicate | null;
}

/** The fields `sensor` gains in GET /api/sensors and GET /api/sensors/{id}, at `now`. */
export function credentialFields(
  sensor: SensorRecord,
  options: ServerOptions,
  now: number,
): CredentialFields {
  const issuedAt = tokenIssuedAt(sensor);
  const { bindings } = sensor;
  return {
    tokenIssuedAt: iso(issuedAt),
    tokenAgeSeconds: Math.max(0, Math.floor((now - issuedAt) / 1000)),
    lastRotatedAt: sensor.lastRotatedAt == null ? null : iso(sensor.lastRotatedAt),
    rotationRequested: rotationDue(sensor, now, tokenMaxAgeMs(options)),
    rotationPending: sensor.revokedAt === null && sensor.pendingToken != null,
    duplicate: bindings == null || !isDuplicate(bindings) ? null : {
      bindings: bindingCount(bindings),
      firstSeenAt: iso(bindings.duplicateSince ?? bindings.seen[0].firstSeenAt),
      seen: bindings.seen.map((host) => ({
        binding: host.binding.slice(0, SHOWN_BINDING_DIGITS),
        hostname: host.hostname,
        sensorIp: host.sensorIp,
        lastSeenAt: iso(host.lastSeenAt),
      })),
    },
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
