// reference-backend/console/fleet.ts: the fleet as the console shows it. Each sensor gets a state
// from its last beat and the heartbeat interval, and each view an ETag, so the page's polling
// costs a 304 and no body while nothing changed. Pure.
import { ONLINE_INTERVALS } from "../store/mod.ts";

/** How the console names a sensor's health. */
export type SensorState = "online" | "late" | "silent" | "revoked";

/**
 * A beat is due every interval, give or take the agent's 10 % jitter (README, "Heartbeats"); past
 * 1.5 intervals one is missing, so the sensor is late. Past ONLINE_INTERVALS it is silent: the
 * admin API's `online` turns false at the same moment, so the two never disagree.
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

/** A sensor as the admin API lists it (the fields the console uses). */
export interface ListedSensor {
  readonly id: string;
  readonly label: string | null;
  readonly hostname: string;
  readonly sensorIp: string;
  readonly osInfo: string;
  readonly architecture: string;
  readonly agentVersion: string;
  readonly enrolledAt: string;
  readonly lastSeenAt: string;
  readonly heartbeats: number;
  readonly uptimeSeconds: number | null;
  readonly interfaceCount: number;
  readonly revokedAt: string | null;
}

/** The row the console draws for `sensor`: its fields and its state. */
export function fleetRow(sensor: ListedSensor, now: number, intervalSeconds: number) {
  const revokedAt = sensor.revokedAt === null ? null : Date.parse(sensor.revokedAt);
  return {
    id: sensor.id,
    label: sensor.label,
    hostname: sensor.hostname,
    sensorIp: sensor.sensorIp,
    osInfo: sensor.osInfo,
    architecture: sensor.architecture,
    agentVersion: sensor.agentVersion,
    enrolledAt: sensor.enrolledAt,
    lastSeenAt: sensor.lastSeenAt,
    heartbeats: sensor.heartbeats,
    uptimeSeconds: sensor.uptimeSeconds,
    interfaceCount: sensor.interfaceCount,
    revokedAt: sensor.revokedAt,
    state: sensorState(Date.parse(sensor.lastSeenAt), revokedAt, now, intervalSeconds),
  };
}

/** A strong ETag for a JSON body: the first 32 hex digits of its SHA-256. */
export async function etagOf(body: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  return `"${new Uint8Array(hash).toHex().slice(0, 32)}"`;
}

/** True when the request's If-None-Match names `etag` (or is `*`). */
export function notModified(request: Request, etag: string): boolean {
  const header = request.headers.get("if-none-match");
  if (header === null) return false;
  return header.trim() === "*" ||
    header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
