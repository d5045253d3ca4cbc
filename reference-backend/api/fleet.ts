// reference-backend/api/fleet.ts: the fleet as the admin API lists it and removes from it
// (docs/api.md): GET /api/sensors, one page of what matches a query (fleetquery.ts) over the fleet
// the store keeps in memory, and DELETE /api/sensors/{id}, which removes a sensor that is revoked
// or silent, never one that still beats.
import { log } from "../../lib/log.ts";
import { HttpError, ok } from "../http/mod.ts";
import { type SensorRecord, sensorState } from "../store/mod.ts";
import { describeSensor, sensorName } from "./admin.ts";
import { audit } from "./audit.ts";
import type { Context } from "./context.ts";
import { checkFleetQuery, queryFleet } from "./fleetquery.ts";
import { requireAdmin } from "./guard.ts";
import { valid } from "./validate.ts";

/**
 * GET /api/sensors?q=&state=&version=&os=&duplicate=&sort=&order=&limit=&cursor=: one page of the
 * sensors that match, newest activity first by default, with how many match (`total`), the whole
 * fleet's `counts` and `facets`, and `nextCursor` (null on the last page).
 */
export function listSensors(request: Request, options: Context, now: number, client: string) {
  requireAdmin(request, options, now, client);
  const query = valid(checkFleetQuery(new URL(request.url).searchParams));
  const page = queryFleet(options.store.fleet(), query, now, options.heartbeatIntervalSeconds);
  return Promise.resolve(ok({
    sensors: page.sensors.map((sensor) => describeSensor(sensor, options, now)),
    total: page.total,
    counts: page.counts,
    facets: page.facets,
    nextCursor: page.nextCursor,
  }));
}

/**
 * DELETE /api/sensors/{id}: removes a revoked or silent sensor and all that is kept for it; 409 for
 * one that is online or late (revoke it first), 404 for an unknown one.
 */
export async function deleteSensor(
  request: Request,
  options: Context,
  now: number,
  client: string,
  id: string,
) {
  requireAdmin(request, options, now, client);
  const interval = options.heartbeatIntervalSeconds;
  const refusal = (sensor: SensorRecord) => {
    const state = sensorState(sensor.lastSeenAt, sensor.revokedAt, now, interval);
    return state === "online" || state === "late"
      ? `the sensor is ${state}: revoke it first, or remove it once it is silent`
      : undefined;
  };
  const removal = await options.store.remove(id, refusal);
  if (removal === null) throw new HttpError(404, "no such sensor");
  if ("refused" in removal) throw new HttpError(409, removal.refused);
  const sensor = removal.removed;
  log.info("sensor removed", { sensorId: id });
  await audit(options, request, client, now, "sensor.delete", `sensor ${id}`, sensorName(sensor));
  return ok({ removed: describeSensor(sensor, options, now) });
}
