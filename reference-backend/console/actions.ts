// reference-backend/console/actions.ts: what a logged-in operator does with sensors: a page of the
// fleet and one sensor (polled, answered 304 while nothing changed), revoking, removing and
// rotating one, rotating the whole fleet, and revoking or removing many at once. Each goes through
// the admin API on the session's behalf, so its rules, logs and audit events are those of /api/.
import { readJson } from "../http/mod.ts";
import {
  admin,
  type Call,
  conditional,
  guardChange,
  json,
  refusal,
  requireSession,
} from "./call.ts";

/**
 * GET /console/api/fleet?<GET /api/sensors's query>: one page of the fleet, the whole fleet's
 * counts and facets, and the cursor of the next page; 304 while nothing changed.
 */
export async function fleet(call: Call): Promise<Response> {
  const session = await requireSession(call);
  const query = new URL(call.request.url).search;
  const page = await admin(call, session, "GET", `/api/sensors${query}`) as {
    sensors: Record<string, unknown>[];
  };
  return await conditional(call, {
    heartbeatIntervalSeconds: call.options.heartbeatIntervalSeconds,
    ...page,
    sensors: page.sensors.map(unaged),
  });
}

/** GET /console/api/sensors/{id}: the sensor, its interfaces and its recent byte counters. */
export async function detail(call: Call, id: string): Promise<Response> {
  const session = await requireSession(call);
  const { interfaces, ...sensor } = await admin(call, session, "GET", `/api/sensors/${id}`) as {
    interfaces: unknown[];
  };
  return await conditional(call, {
    sensor: unaged(sensor),
    interfaces,
    counters: await call.options.store.recentCounters(id),
  });
}

/**
 * A sensor without `tokenAgeSeconds`, which changes every second and would change the ETag of
 * every poll: the page counts the age from `tokenIssuedAt`, as it counts "last beat" ages.
 */
function unaged({ tokenAgeSeconds: _, ...sensor }: Record<string, unknown>) {
  return sensor;
}

/** POST /console/api/sensors/{id}/revoke: revokes the sensor (its next heartbeat gets 401). */
export async function revoke(call: Call, id: string): Promise<Response> {
  const session = await guardChange(call);
  return json(await admin(call, session, "POST", `/api/sensors/${id}/revoke`, {}));
}

/** POST /console/api/sensors/{id}/delete: removes a revoked or silent sensor (409 otherwise). */
export async function remove(call: Call, id: string): Promise<Response> {
  const session = await guardChange(call);
  return json(await admin(call, session, "DELETE", `/api/sensors/${id}`));
}

/** POST /console/api/sensors/{id}/rotate: the sensor rotates its token at its next beat. */
export async function rotate(call: Call, id: string): Promise<Response> {
  const session = await guardChange(call);
  return json(await admin(call, session, "POST", `/api/sensors/${id}/rotate`, {}));
}

/** POST /console/api/sensors/rotate: every sensor not revoked rotates at its next beat. */
export async function rotateFleet(call: Call): Promise<Response> {
  const session = await guardChange(call);
  return json(await admin(call, session, "POST", "/api/sensors/rotate", {}));
}

/** The most sensors one bulk request acts on: a page of the fleet at its largest. */
export const MAX_BULK = 500;
const SENSOR_ID = /^[0-9a-f-]{36}$/;

/**
 * POST /console/api/sensors/bulk `{ action: "revoke" | "delete", ids }`: the action on each sensor,
 * one admin call each; answers which were done and, for the others, why not.
 */
export async function bulk(call: Call): Promise<Response> {
  const session = await guardChange(call);
  const body = await readJson(call.request) as { action?: unknown; ids?: unknown } | undefined;
  const { action, ids } = body ?? {};
  if (action !== "revoke" && action !== "delete") {
    throw refusal(400, 'action: "revoke" or "delete"');
  }
  if (
    !Array.isArray(ids) || ids.length === 0 || ids.length > MAX_BULK ||
    !ids.every((id) => typeof id === "string" && SENSOR_ID.test(id))
  ) {
    throw refusal(400, `ids: 1-${MAX_BULK} sensor ids`);
  }
  const done: string[] = [];
  const failed: { id: string; error: string }[] = [];
  for (const id of new Set(ids as string[])) {
    try {
      if (action === "revoke") await admin(call, session, "POST", `/api/sensors/${id}/revoke`, {});
      else await admin(call, session, "DELETE", `/api/sensors/${id}`);
      done.push(id);
    } catch (error) {
      failed.push({ id, error: (error as Error).message });
    }
  }
  return json({ action, done, failed });
}
