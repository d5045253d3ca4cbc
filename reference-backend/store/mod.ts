// reference-backend/store/mod.ts: what the reference backend keeps, and its secrets (docs/api.md,
// "What the store holds"). Owns the Deno KV store and its layout (kv.ts), the records and the
// pieces of a write (records.ts), the heartbeat's cached path and the group commit under it
// (beats.ts, groupcommit.ts), a sensor's revocation and removal (endings.ts), the whole fleet in
// memory for listing (fleet.ts) and a sensor's state from its last beat (state.ts), a sensor
// token's life after enrollment: its rotation and the hosts seen with it (credentials.ts,
// bindings.ts), the install tokens as listed and cancelled (installs.ts), the audit trail
// (audit.ts), the console's sessions and login codes (sessions.ts), what the alert sweep reported
// (alerts.ts), the packing of interface lists into KV values (interfaces.ts), one write at a time
// per record (coalesce.ts), and the tokens: random ones, their SHA-256 digests, the sealing of a
// sensor token for the enrollment's replay window and a pending rotation (tokens.ts). Never speaks
// HTTP (no request, reply or status: a load condition is an error the routes translate), and never
// keeps a token in clear: only its digest, or sealed.
export { openStore, type Removal, Store } from "./kv.ts";
export { AUDIT_LIMITS, type AuditEvent, type AuditLimits, type AuditPage } from "./audit.ts";
export { type CancelRefusal, fingerprintOfDigest, type ListedInstallToken } from "./installs.ts";
export type { SessionRecord, SessionRecords } from "./sessions.ts";
export { LATE_INTERVALS, SENSOR_STATES, type SensorState, sensorState } from "./state.ts";
export {
  type Consumption,
  Contended,
  type CounterSample,
  type InstallTokenRecord,
  isStoreBusy,
  ONLINE_INTERVALS,
  REPLAY_WINDOW_MS,
  type ReplayRecord,
  type SensorRecord,
  type SensorUpdate,
  TooLargeToStore,
} from "./records.ts";
export { Coalescer, TooManyWaiting } from "./coalesce.ts";
export { digest, randomToken, sameSecret, seal, type Sealed, unseal } from "./tokens.ts";
export type { Decision } from "./beats.ts";
export {
  asksRotation,
  DEFAULT_TOKEN_MAX_AGE_DAYS,
  type PendingToken,
  rotationDue,
  type SensorCredential,
  tokenIssuedAt,
} from "./credentials.ts";
export {
  bindingCount,
  type BindingSeen,
  type BindingsSeen,
  isDuplicate,
  MAX_SEEN,
  mergeSightings,
  NO_SIGHTINGS,
  noteSightings,
  SHOWN_BINDING_DIGITS,
  type Sighting,
} from "./bindings.ts";
