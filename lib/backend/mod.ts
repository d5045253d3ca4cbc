// lib/backend/mod.ts: the agent's side of the protocol (docs/protocol.md). Owns the HTTP client
// (one User-Agent, no redirects, a time limit over the whole exchange, a 1 MiB cap), the backend as
// configured (BACKEND_URL, the timeout, BACKEND_CA_FILE's trust), the enrollment exchange, the
// heartbeat exchange and its loop, the sensor token's rotation and the headers of every request
// made with it, the schedule of beats, and the check of the backend-address pin.
// Never reads the host and never writes a file: it is handed the snapshot, the Config, and the
// TokenStore that saves a rotated token.
//
// What only some commands need is loaded when first called: the configured backend (not for
// inventory), the heartbeat loop, its schedule and the rotation (run), the pin check (status
// --check).
import type { ExitCode } from "../errors.ts";
import type { Config } from "../config/mod.ts";
import type { Backend } from "./http.ts";
import type { HeartbeatOptions } from "./heartbeat.ts";
import type { PinVerdict } from "./pincheck.ts";

export {
  type Backend,
  HEARTBEAT_PATH,
  type Reply,
  request,
  TransportError,
  type TransportFailure,
} from "./http.ts";
export {
  DEFAULT_INTERVAL_SECONDS,
  type Enrollment,
  type EnrollmentPayload,
  enrollmentPayload,
  idempotencyKey,
  requestEnrollment,
} from "./enrollment.ts";
export type { HeartbeatBody, HeartbeatOptions } from "./heartbeat.ts";
export type { RotationReply, TokenStore } from "./rotation.ts";
export type { PinVerdict };
export type { ScheduleState, Step } from "./schedule.ts";
export type { AddressPin, IpPrefix } from "./addresspin.ts";

/** The backend as `config` describes it: URL, timeout, and a client trusting BACKEND_CA_FILE. */
export async function backendFor(config: Config): Promise<Backend> {
  return await (await import("./configured.ts")).backendFor(config);
}

/** Beats until a signal (0) or a rejected sensor token (throws the 77): heartbeat.ts. */
export async function runHeartbeats(options: HeartbeatOptions): Promise<ExitCode> {
  return await (await import("./heartbeat.ts")).runHeartbeats(options);
}

/** `status --check`'s line about the backend-address pin, if one is installed (pincheck.ts). */
export async function checkAddressPin(
  url: URL,
  stop?: AbortSignal,
  path?: string,
): Promise<PinVerdict | undefined> {
  return await (await import("./pincheck.ts")).checkAddressPin(url, stop, path);
}

/** The schedule's pure functions (schedule.ts), for simulations of a fleet; loaded when asked for. */
export function loadSchedule(): Promise<typeof import("./schedule.ts")> {
  return import("./schedule.ts");
}

/** The pin's parsers and matchers (addresspin.ts), as systemd reads them; loaded when asked for. */
export function loadAddressPin(): Promise<typeof import("./addresspin.ts")> {
  return import("./addresspin.ts");
}
