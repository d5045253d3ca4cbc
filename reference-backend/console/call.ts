// reference-backend/console/call.ts: one request to the console's JSON endpoints, and what every
// endpoint does with it: find the session, guard a change (guard.ts), call the admin API as the
// admin, and answer in the envelope with the console's security headers.
import { HttpError } from "../http/mod.ts";
import type { Store } from "../store/mod.ts";
import { SECURITY_HEADERS } from "./assets.ts";
import { etagOf, notModified } from "./fleet.ts";
import { requireCsrfToken, requireSameOrigin } from "./guard.ts";
import type { Session, Sessions } from "./session.ts";

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

/**
 * What the console needs of the backend: its admin token, interval and public address, and the
 * store only for a sensor's recent counters; all else goes through the admin API (AdminApi).
 */
export interface ConsoleOptions {
  readonly store: Pick<Store, "recentCounters">;
  readonly adminToken: string;
  readonly heartbeatIntervalSeconds: number;
  readonly publicUrl: string;
}

/** One request to an endpoint, with what it may use. */
export interface Call {
  readonly request: Request;
  readonly guesses: Guesses;
  readonly options: ConsoleOptions;
  readonly now: number;
  readonly api: AdminApi;
  readonly sessions: Sessions;
}

/** An endpoint: the call, and the sensor id its path names (or ""). */
export type Route = (call: Call, id: string) => Promise<Response>;

/** Calls the admin API as the admin; its refusal becomes the console's, with the same status. */
export async function admin(
  call: Call,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
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

/** The call's open session, or a 401 refusal. */
export function requireSession(call: Call): Session {
  const session = call.sessions.find(call.request, call.now);
  if (session === undefined) throw refusal(401, "log in to the console");
  return session;
}

/** The checks of a state-changing request: same origin, JSON, a session and its CSRF token. */
export function guardChange(call: Call): Session {
  requireSameOrigin(call.request, origins(call), SECURITY_HEADERS);
  const session = requireSession(call);
  requireCsrfToken(call.request, session, SECURITY_HEADERS);
  return session;
}

/** What the page is told of its session: the CSRF token to echo, and the heartbeat interval. */
export function sessionInfo(call: Call, session: Session) {
  return {
    csrfToken: session.csrfToken,
    heartbeatIntervalSeconds: call.options.heartbeatIntervalSeconds,
  };
}

/** The origins the console's page is loaded from: the request's own and PUBLIC_URL's. */
export function origins(call: Call): string[] {
  return [new URL(call.request.url).origin, new URL(call.options.publicUrl).origin];
}

/** Secure cookies when the operator reaches the backend by https (PUBLIC_URL says so). */
export function secure(call: Call): boolean {
  return call.options.publicUrl.startsWith("https:");
}

/** `data` in the JSON envelope with an ETag; 304 without a body when If-None-Match has it. */
export async function conditional(call: Call, data: unknown): Promise<Response> {
  const body = JSON.stringify({ success: true, data });
  const etag = await etagOf(body);
  const headers = { ...SECURITY_HEADERS, "Cache-Control": "no-store", "ETag": etag };
  if (notModified(call.request, etag)) return new Response(null, { status: 304, headers });
  return new Response(body, {
    headers: { ...headers, "Content-Type": "application/json; charset=utf-8" },
  });
}

/** `data` in the JSON envelope, never cached, with the console's security headers. */
export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json({ success: true, data }, {
    status,
    headers: { ...SECURITY_HEADERS, "Cache-Control": "no-store", ...headers },
  });
}

/** A refusal for the backend to log and answer, carrying the console's security headers. */
export function refusal(status: number, message: string, headers: Record<string, string> = {}) {
  return new HttpError(status, message, { ...SECURITY_HEADERS, ...headers });
}
