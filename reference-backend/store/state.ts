// reference-backend/store/state.ts: how healthy a sensor is, from its last beat and the heartbeat
// interval. The admin API's `state` and `online`, its `state=` filter, the console and the alert
// sweep all judge by this one function, so they never disagree. Pure.
import { ONLINE_INTERVALS } from "./records.ts";

/** A sensor's health: beating, a beat missed, none for ONLINE_INTERVALS intervals, or revoked. */
export type SensorState = "online" | "late" | "silent" | "revoked";

/** Every state, in the order the API counts and the console shows them. */
export const SENSOR_STATES: readonly SensorState[] = ["online", "late", "silent", "revoked"];

/**
 * A beat is due every interval, give or take the agent's 10 % jitter (README, "Heartbeats"); past
 * 1.5 intervals one is missing, so the sensor is late. Past ONLINE_INTERVALS it is silent: the
 * admin API's `online` turns false at the same moment.
 */
export const LATE_INTERVALS = 1.5;

/** The state of a sensor last heard from at `lastSeenAt` (ms), revoked at `revokedAt` or not. */
export function sensorState(
  lastSeenAt: number,
  revokedAt: number | null,
  now: number,
  intervalSeconds: number,
): SensorState {
  if (revokedAt !== null) return "revoked";
  const age = now - lastSeenAt;
  if (age <= LATE_INTERVALS * intervalSeconds * 1000) return "online";
  if (age <= ONLINE_INTERVALS * intervalSeconds * 1000) return "late";
  return "silent";
}
