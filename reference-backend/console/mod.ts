// reference-backend/console/mod.ts: the operator console at /console (docs/api.md, "The operator
// console"): a page and its JSON endpoints under /console/api/. The endpoints are a thin front on
// the admin API: they swap the console's session cookie for the admin token and call the backend's
// own handler, so minting, listing and revoking follow exactly the rules (and logs) of /api/.
import { fingerprint } from "../../lib/secrets.ts";
import { bearerToken, HttpError, readJson } from "../http.ts";
import type { ServerOptions } from "../server.ts";
import { type Asset, PAGE, SECURITY_HEADERS, STATIC } from "./assets.ts";
import { etagOf, fleetRow, type ListedSensor, notModified } from "./fleet.ts";
import { requireCsrfToken, requireSameOrigin } from "./guard.ts";
import { clearedCookie, isAdminToken, type Session, sessionCookie, Sessions } from "./session.ts";

/** The backend's own request handler, which the console calls with the admin token. */
export type AdminApi = (request: Request) => Promise<Response>;

/** The count of wrong admin tokens from the request's client, shared with the admin API. */
export interface Guesses {
  /** Milliseconds until the client may try again, 0 when it may now. */
  retryAfterMs(): number;
  fail(): void;
  /** The right secret came: the client's count starts afresh. */
  succeed(): void;
}

interface Call {
  readonly request: Request;
  readonly guesses: Guesses;
  readonly options: ServerOptions;
  readonly now: number;
  readonly api: AdminApi;
  readonly sessions: Sessions;
}

type Route = (call: Call, id: string) => Promise<Response>;

// One set of sessions per backend (per ServerOptions), so tests can run several in one process.
const sessionsByBackend = new WeakMap<ServerOptions, Sessions>();

const SENSOR = /^\/console\/api\/sensors\/([0-9a-f-]{36})(\/revoke)?$/;

/** True for the paths the console serves. */
export function isConsolePath(path: string): boolean {
  return path === "/console" || path.startsWith("/console/");
}

/**
 * Answers a request for the console path `path` (plain: the backend's target.ts checked it). `api`
 * is the backend's handler; refusals are thrown as HttpError (with the console's security headers)
 * for the backend to log and answer.
 */
export async function serveConsole(
  request: Request,
  path: string,
  options: ServerOptions,
  now: number,
  api: AdminApi,
  guesses: Guesses,
): Promise<Response> {
  let sessions = sessionsByBackend.get(options);
  if (sessions === undefined) sessionsByBackend.set(options, sessions = new Sessions());
  const { handler, id } = route(request.method, path);
  return await handler({ request, options, now, api, sessions, guesses }, id);
}

function route(method: string, path: string): { handler: Route; id: string } {
  const allow = (allowed: string, handler: Route, id = "") => {
    if (allowed.split(", ").includes(method)) return { handler, id };
    throw refusal(405, `use ${allowed}`, { Allow: allowed });
  };
  if (path === "/console" || path === "/console/") return allow("GET, HEAD", () => asset(PAGE));
  const file = /^\/console\/static\/([a-z]+\.(?:js|css))$/.exec(path)?.[1];
  const found = file === undefined ? undefined : STATIC.get(file);
  if (found !== undefined) return allow("GET, HEAD", () => asset(found));
  if (path === "/console/api/session") return allow("GET", showSession);
  if (path === "/console/api/login") return allow("POST", login);
  if (path === "/console/api/logout") return allow("POST", logout);
  if (path === "/console/api/login-codes") return allow("POST", mintLoginCode);
  if (path === "/console/api/fleet") return allow("GET", fleet);
  if (path === "/console/api/install-tokens") return allow("POST", mintInstallToken);
  const sensor = SENSOR.exec(path);
  if (sensor?.[2]) return allow("POST", revoke, sensor[1]);
  if (sensor) return allow("GET", detail, sensor[1]);
  throw refusal(404, "no such console page");
}

function asset(file: Asset): Promise<Response> {
  return Promise.resolve(
    new Response(file.body, {
      headers: { ...SECURITY_HEADERS, "Content-Type": file.type, "Cache-Control": "no-cache" },
    }),
  );
}

/** GET /console/api/session: the CSRF token and the interval, for a page that is logged in. */
function showSession(call: Call): Promise<Response> {
  const session = requireSession(call);
  return Promise.resolve(json(sessionInfo(call, session)));
}

/** POST /console/api/login `{ secret }`: the admin token or a one-time code opens a session. */
async function login(call: Call): Promise<Response> {
  requireSameOrigin(call.request, origins(call), SECURITY_HEADERS);
  const body = await readJson(call.request) as { secret?: unknown } | undefined;
  const secret = typeof body?.secret === "string" ? body.secret.trim() : "";
  // While the client waits out its wrong guesses a secret is not even judged, the right one
  // included: else the answer would still tell right from wrong at full speed.
  const waitMs = secret === "" ? 0 : call.guesses.retryAfterMs();
  if (waitMs > 0) {
    throw refusal(429, "too many wrong logins from this address; retry in a moment", {
      "Retry-After": String(Math.ceil(waitMs / 1000)),
    });
  }
  const accepted = secret !== "" && secret.length <= 4096 &&
    (isAdminToken(secret, call.options.adminToken) || call.sessions.spendCode(secret, call.now));
  if (!accepted) {
    if (secret !== "") call.guesses.fail();
    throw refusal(401, "admin token or one-time code not accepted");
  }
  call.guesses.succeed();
  const { id, session } = call.sessions.open(call.now);
  return json(sessionInfo(call, session), 200, {
    "Set-Cookie": sessionCookie(id, secure(call)),
  });
}

/** POST /console/api/logout: ends the session and clears its cookie. */
function logout(call: Call): Promise<Response> {
  guardChange(call);
  call.sessions.close(call.request);
  return Promise.resolve(json({}, 200, { "Set-Cookie": clearedCookie(secure(call)) }));
}

/**
 * POST /console/api/login-codes, with `Authorization: Bearer <ADMIN_TOKEN>` (no cookie): a code
 * that logs in once within 10 minutes, so a script (the demo) can hand out a login without
 * showing the admin token. A bearer header is never sent by a browser on its own: no CSRF here.
 */
function mintLoginCode(call: Call): Promise<Response> {
  const bearer = bearerToken(call.request);
  const waitMs = bearer === undefined ? 0 : call.guesses.retryAfterMs();
  if (waitMs > 0) {
    throw refusal(429, "too many wrong admin tokens from this address; retry later", {
      "Retry-After": String(Math.ceil(waitMs / 1000)),
    });
  }
  if (bearer === undefined || !isAdminToken(bearer, call.options.adminToken)) {
    if (bearer !== undefined) call.guesses.fail();
    throw refusal(401, "admin token required", {
      "WWW-Authenticate": 'Bearer realm="ravenxcope-admin"',
    });
  }
  call.guesses.succeed();
  const { code, expiresAt } = call.sessions.mintCode(call.now);
  return Promise.resolve(json({ code, expiresAt: new Date(expiresAt).toISOString() }, 201));
}

/** GET /console/api/fleet: every sensor with its state; 304 while nothing changed. */
async function fleet(call: Call): Promise<Response> {
  requireSession(call);
  const { sensors } = await admin(call, "GET", "/api/sensors") as { sensors: ListedSensor[] };
  const interval = call.options.heartbeatIntervalSeconds;
  return await conditional(call, {
    heartbeatIntervalSeconds: interval,
    sensors: sensors.map((sensor) => fleetRow(sensor, call.now, interval)),
  });
}

/** GET /console/api/sensors/{id}: the row, its interfaces and its recent byte counters. */
async function detail(call: Call, id: string): Promise<Response> {
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
async function revoke(call: Call, id: string): Promise<Response> {
  guardChange(call);
  const sensor = await admin(call, "POST", `/api/sensors/${id}/revoke`) as ListedSensor;
  return json(fleetRow(sensor, call.now, call.options.heartbeatIntervalSeconds));
}

/**
 * POST /console/api/install-tokens `{ note?, ttlSeconds? }`: mints an install token. The reply is
 * the only time the token leaves the backend; the page shows it once, then its fingerprint only.
 */
async function mintInstallToken(call: Call): Promise<Response> {
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

/** Calls the admin API as the admin; its refusal becomes the console's, with the same status. */
async function admin(call: Call, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await call.api(
    new Request(new URL(path, call.request.url), {
      method,
      headers: {
        "Authorization": `Bearer ${call.options.adminToken}`,
        "Content-Type": "application/json",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  const reply = await response.json();
  if (reply.success !== true) throw refusal(response.status, String(reply.error));
  return reply.data;
}

function requireSession(call: Call): Session {
  const session = call.sessions.find(call.request, call.now);
  if (session === undefined) throw refusal(401, "log in to the console");
  return session;
}

/** The checks of a state-changing request: same origin, JSON, a session and its CSRF token. */
function guardChange(call: Call): Session {
  requireSameOrigin(call.request, origins(call), SECURITY_HEADERS);
  const session = requireSession(call);
  requireCsrfToken(call.request, session, SECURITY_HEADERS);
  return session;
}

function sessionInfo(call: Call, session: Session) {
  return {
    csrfToken: session.csrfToken,
    heartbeatIntervalSeconds: call.options.heartbeatIntervalSeconds,
  };
}

/** The origins the console's page is loaded from: the request's own and PUBLIC_URL's. */
function origins(call: Call): string[] {
  return [new URL(call.request.url).origin, new URL(call.options.publicUrl).origin];
}

/** Secure cookies when the operator reaches the backend by https (PUBLIC_URL says so). */
function secure(call: Call): boolean {
  return call.options.publicUrl.startsWith("https:");
}

/** `data` in the JSON envelope with an ETag; 304 without a body when If-None-Match has it. */
async function conditional(call: Call, data: unknown): Promise<Response> {
  const body = JSON.stringify({ success: true, data });
  const etag = await etagOf(body);
  const headers = { ...SECURITY_HEADERS, "Cache-Control": "no-store", "ETag": etag };
  if (notModified(call.request, etag)) return new Response(null, { status: 304, headers });
  return new Response(body, {
    headers: { ...headers, "Content-Type": "application/json; charset=utf-8" },
  });
}

function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json({ success: true, data }, {
    status,
    headers: { ...SECURITY_HEADERS, "Cache-Control": "no-store", ...headers },
  });
}

function refusal(status: number, message: string, headers: Record<string, string> = {}) {
  return new HttpError(status, message, { ...SECURITY_HEADERS, ...headers });
}
