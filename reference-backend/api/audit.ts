// reference-backend/api/audit.ts: the audit trail as the admin API writes and reads it (docs/api.md,
// "GET /api/audit"). Who did a thing is the admin token, or the console session on whose behalf the
// console called the admin API; from where is the real client's address, the browser's for the
// console. An event that cannot be written is logged, and the action it records still stands.
import { log } from "../../lib/log.ts";
import { consoleCaller } from "../console/mod.ts";
import { HttpError, ok } from "../http/mod.ts";
import type { AuditEvent, Store } from "../store/mod.ts";
import type { Context } from "./context.ts";
import { requireAdmin } from "./guard.ts";

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

/** Who made `request` and from where: a console session (console/), else the admin token. */
export function actorOf(request: Request, client: string): { who: string; from: string } {
  return consoleCaller(request) ?? { who: "admin token", from: client };
}

/** Records `action` on `target` by whoever made `request`, with a few words of `detail`. */
export async function audit(
  options: Context,
  request: Request,
  client: string,
  now: number,
  action: string,
  target: string | null,
  detail: string | null = null,
): Promise<void> {
  await record(options.store, { at: now, ...actorOf(request, client), action, target, detail });
}

/** Records `action` done by a request made from `client` with the sensor token of `sensorId`. */
export function auditBySensor(
  options: Context,
  client: string,
  now: number,
  action: string,
  sensorId: string,
  detail: string,
): Promise<void> {
  const event = { at: now, who: "sensor", from: client, action, target: `sensor ${sensorId}` };
  return record(options.store, { ...event, detail });
}

/** Records an event; a failure to write it is logged, never thrown at the action it records. */
export async function record(store: Store, event: AuditEvent): Promise<void> {
  try {
    await store.audit.record(event);
  } catch (error) {
    log.error(`cannot write the audit trail: ${String(error).split("\n")[0]}`, {
      action: event.action,
    });
  }
}

/** GET /api/audit?limit=&cursor=: the trail, newest first. */
export async function listAudit(request: Request, options: Context, now: number, client: string) {
  requireAdmin(request, options, now, client);
  const params = new URL(request.url).searchParams;
  for (const name of params.keys()) {
    if (name !== "limit" && name !== "cursor") {
      throw new HttpError(400, `unknown query parameter ${JSON.stringify(name.slice(0, 40))}`);
    }
  }
  const limitText = params.get("limit") || String(DEFAULT_LIMIT);
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_LIMIT) {
    throw new HttpError(400, `limit: an integer 1-${MAX_LIMIT}`);
  }
  let page;
  try {
    page = await options.store.audit.page(limit, now, params.get("cursor") || undefined);
  } catch {
    throw new HttpError(400, "cursor: not one this listing gave; start again without it");
  }
  return ok({
    events: page.events.map((event) => ({ ...event, at: new Date(event.at).toISOString() })),
    nextCursor: page.nextCursor,
  });
}
