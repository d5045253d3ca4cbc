// reference-backend/console/actions.ts: what a logged-in operator does: the fleet and one sensor
// (polled, answered 304 while nothing changed), revoking a sensor and minting an install token,
// each through the admin API so that its rules and logs are those of /api/.
import { fingerprint } from "../../lib/secrets.ts";
import { readJson } from "../http/mod.ts";
import { admin, type Call, conditional, guardChange, json, requireSession } from "./call.ts";
import { fleetRow, type ListedSensor } from "./fleet.ts";

/** GET /console/api/fleet: every sensor with its state; 304 while nothing changed. */
export async function fleet(call: Call): Promise<Response> {
  requireSession(call);
  const { sensors } = await admin(call, "GET", "/api/sensors") as { sensors: ListedSensor[] };
  const interval = call.options.heartbeatIntervalSeconds;
  return await conditional(call, {
    heartbeatIntervalSeconds: interval,
    sensors: sensors.map((sensor) => fleetRow(sensor, call.now, interval)),
  });
}

/** GET /console/api/sensors/{id}: the row, its interfaces and its recent byte counters. */
export async function detail(call: Call, id: string): Promise<Response> {
  requireSession(call);
  const sensor = await admin(call, "GET", `/api/sensors/${id}`) as ListedSensor & {
    interfaces: unknown[];
  };
  return await conditional(call, {
    sensor: fleetRow(sensor, call.now, call.options.heartbeatIntervalSeconds),
    interfaces: sensor.interfaces,
    counters: await call.options.store.recentCounters(id),
  });
}

/** POST /console/api/sensors/{id}/revoke: revokes the sensor (its next heartbeat gets 401). */
export async function revoke(call: Call, id: string): Promise<Response> {
  guardChange(call);
  const sensor = await admin(call, "POST", `/api/sensors/${id}/revoke`) as ListedSensor;
  return json(fleetRow(sensor, call.now, call.options.heartbeatIntervalSeconds));
}

/**
 * POST /console/api/install-tokens `{ note?, ttlSeconds? }`: mints an install token. The reply is
 * the only time the token leaves the backend; the page shows it once, then its fingerprint only.
 */
export async function mintInstallToken(call: Call): Promise<Response> {
  guardChange(call);
  const body = await readJson(call.request);
  const minted = await admin(call, "POST", "/api/install-tokens", body ?? {}) as {
    installToken: string;
    expiresAt: string;
    installCommand: string;
  };
  const note = (body as { note?: string } | undefined)?.note ?? null;
  return json({ ...minted, fingerprint: fingerprint(minted.installToken), note }, 201);
}
