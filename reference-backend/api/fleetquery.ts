// reference-backend/api/fleetquery.ts: GET /api/sensors's query (docs/api.md): what may be asked
// (`q`, `state`, `version`, `os`, `duplicate`, `sort`, `order`, `limit`, `cursor`), and one page of
// the fleet that matches, with the whole fleet's counts. Paging is by key, not by offset: the
// cursor names the sort key and id of the page's last row, and the next page starts after it, so a
// beat that moves a sensor meanwhile never repeats the rows already shown nor skips one that did
// not move. Pure.
import {
  isDuplicate,
  SENSOR_STATES,
  type SensorRecord,
  type SensorState,
  sensorState,
} from "../store/mod.ts";
import type { Checked } from "./validate.ts";

/** The fields a page may be sorted by. */
export const SORT_FIELDS = [
  "lastSeenAt",
  "enrolledAt",
  "hostname",
  "label",
  "sensorIp",
  "osInfo",
  "agentVersion",
] as const;
export type SortField = typeof SORT_FIELDS[number];

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 500;
const MAX_TEXT = 200;
const FACETS = 50;

type Key = string | number | null;

/** Where a page starts: after the row with this sort key and id. */
interface Cursor {
  readonly key: Key;
  readonly id: string;
}

/** A checked query. Newest activity first unless it says otherwise. */
export interface FleetQuery {
  readonly q?: string;
  readonly state?: SensorState;
  readonly version?: string;
  readonly os?: string;
  readonly duplicate?: boolean;
  readonly sort: SortField;
  readonly order: "asc" | "desc";
  readonly limit: number;
  readonly cursor?: Cursor;
}

/** One page: its records, how many match, the whole fleet's counts, and where the next starts. */
export interface FleetPage {
  readonly sensors: SensorRecord[];
  readonly total: number;
  readonly counts: Record<SensorState | "duplicate", number>;
  readonly facets: { agentVersion: Facet[]; osInfo: Facet[] };
  readonly nextCursor: string | null;
}

/** A value of a field in the fleet and how many sensors have it. */
export interface Facet {
  readonly value: string;
  readonly count: number;
}

const PARAMETERS = ["q", "state", "version", "os", "duplicate", "sort", "order", "limit", "cursor"];

/** The query in `params`, or the reason it is refused (naming the parameter). */
export function checkFleetQuery(params: URLSearchParams): Checked<FleetQuery> {
  const refuse = (reason: string) => ({ ok: false as const, reason });
  for (const name of params.keys()) {
    if (!PARAMETERS.includes(name)) {
      return refuse(`unknown query parameter ${JSON.stringify(name.slice(0, 40))}`);
    }
  }
  for (const name of ["q", "version", "os"]) {
    if ((params.get(name) ?? "").length > MAX_TEXT) {
      return refuse(`${name}: at most ${MAX_TEXT} characters`);
    }
  }
  const state = params.get("state") || undefined;
  if (state !== undefined && !(SENSOR_STATES as readonly string[]).includes(state)) {
    return refuse(`state: one of ${SENSOR_STATES.join(", ")}`);
  }
  const duplicate = params.get("duplicate") || undefined;
  if (duplicate !== undefined && !["true", "false"].includes(duplicate)) {
    return refuse("duplicate: true or false");
  }
  const sort = (params.get("sort") || "lastSeenAt") as SortField;
  if (!SORT_FIELDS.includes(sort)) return refuse(`sort: one of ${SORT_FIELDS.join(", ")}`);
  const order = params.get("order") || (isTime(sort) ? "desc" : "asc");
  if (order !== "asc" && order !== "desc") return refuse("order: asc or desc");
  const limitText = params.get("limit") || String(DEFAULT_LIMIT);
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_LIMIT) {
    return refuse(`limit: an integer 1-${MAX_LIMIT}`);
  }
  const cursorText = params.get("cursor") || undefined;
  const cursor = cursorText === undefined ? undefined : readCursor(cursorText, sort, order);
  if (cursor === null) {
    return refuse("cursor: not one this sort and order gave; start again without it");
  }
  return {
    ok: true,
    value: {
      q: params.get("q")?.trim().toLowerCase() || undefined,
      state: state as SensorState | undefined,
      version: params.get("version") || undefined,
      os: params.get("os")?.toLowerCase() || undefined,
      duplicate: duplicate === undefined ? undefined : duplicate === "true",
      sort,
      order,
      limit,
      cursor,
    },
  };
}

/** The page of `fleet` that `query` asks for, judged at `now` with the heartbeat interval. */
export function queryFleet(
  fleet: Iterable<SensorRecord>,
  query: FleetQuery,
  now: number,
  intervalSeconds: number,
): FleetPage {
  const counts = { online: 0, late: 0, silent: 0, revoked: 0, duplicate: 0 };
  const versions = new Map<string, number>();
  const oses = new Map<string, number>();
  const rows: { sensor: SensorRecord; key: Key }[] = [];
  for (const sensor of fleet) {
    const state = sensorState(sensor.lastSeenAt, sensor.revokedAt, now, intervalSeconds);
    // A revoked token is used by no host any more: its copies are no longer a danger.
    const duplicate = sensor.revokedAt === null && isDuplicate(sensor.bindings);
    counts[state]++;
    if (duplicate) counts.duplicate++;
    versions.set(sensor.agentVersion, (versions.get(sensor.agentVersion) ?? 0) + 1);
    oses.set(sensor.osInfo, (oses.get(sensor.osInfo) ?? 0) + 1);
    if (query.state !== undefined && state !== query.state) continue;
    if (query.duplicate !== undefined && duplicate !== query.duplicate) continue;
    if (query.version !== undefined && sensor.agentVersion !== query.version) continue;
    if (query.os !== undefined && !sensor.osInfo.toLowerCase().includes(query.os)) continue;
    if (query.q !== undefined && !matches(sensor, query.q)) continue;
    rows.push({ sensor, key: sortKey(sensor, query.sort) });
  }
  const total = rows.length;
  const { cursor, order } = query;
  const after = cursor === undefined
    ? rows
    : rows.filter((row) => compare(row.key, row.sensor.id, cursor.key, cursor.id, order) > 0);
  after.sort((a, b) => compare(a.key, a.sensor.id, b.key, b.sensor.id, order));
  const page = after.slice(0, query.limit);
  const last = page.at(-1);
  return {
    sensors: page.map((row) => row.sensor),
    total,
    counts,
    facets: { agentVersion: facets(versions), osInfo: facets(oses) },
    nextCursor: after.length > page.length && last !== undefined
      ? writeCursor(query, { key: last.key, id: last.sensor.id })
      : null,
  };
}

function isTime(field: SortField): boolean {
  return field === "lastSeenAt" || field === "enrolledAt";
}

/** `q` (lowercase) in the hostname, label, IP or id. */
function matches(sensor: SensorRecord, q: string): boolean {
  return sensor.hostname.toLowerCase().includes(q) ||
    (sensor.label?.toLowerCase().includes(q) ?? false) ||
    sensor.sensorIp.toLowerCase().includes(q) ||
    sensor.id.includes(q);
}

/**
 * A field's value as it sorts: times as numbers; text without case, its digit runs padded so that
 * "sensor-9" comes before "sensor-10" and agent 2.9.0 before 2.10.0; an empty one as null.
 */
function sortKey(sensor: SensorRecord, field: SortField): Key {
  if (field === "lastSeenAt" || field === "enrolledAt") return sensor[field];
  const text = sensor[field];
  if (text === null || text === "") return null;
  return text.toLowerCase().replace(/\d+/g, (digits) => digits.padStart(16, "0"));
}

/** The order of two rows: null keys last in either order; ties broken by id. */
function compare(a: Key, aId: string, b: Key, bId: string, order: "asc" | "desc"): number {
  if ((a === null) !== (b === null)) return a === null ? 1 : -1;
  const direction = order === "asc" ? 1 : -1;
  if (a !== b && a !== null && b !== null) return (a < b ? -1 : 1) * direction;
  return (aId < bId ? -1 : aId > bId ? 1 : 0) * direction;
}

function writeCursor(query: FleetQuery, cursor: Cursor): string {
  const text = JSON.stringify([query.sort, query.order, cursor.key, cursor.id]);
  return new TextEncoder().encode(text).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** The cursor in `text`, or null when it is not one that `sort` and `order` gave. */
function readCursor(text: string, sort: SortField, order: string): Cursor | null {
  try {
    const bytes = Uint8Array.fromBase64(text, { alphabet: "base64url" });
    const [s, o, key, id] = JSON.parse(new TextDecoder().decode(bytes));
    const keyOk = key === null || typeof key === (isTime(sort) ? "number" : "string");
    if (s !== sort || o !== order || !keyOk || typeof id !== "string") return null;
    return { key, id };
  } catch {
    return null;
  }
}

function facets(values: Map<string, number>): Facet[] {
  return [...values].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1))
    .slice(0, FACETS)
    .map(([value, count]) => ({ value, count }));
}
