// reference-backend/console/call.ts: one request to the console's JSON endpoints, and what every
// endpoint does with it: find the session, guard a change (guard.ts), call the admin API as the
// admin on the session's behalf, and answer in the envelope with the console's security headers.
import { HttpError } from "../http/mod.ts";
import type { AuditEvent, Store } from "../store/mod.ts";
import { SECURITY_HEADERS } from "./assets.ts";
import { etagOf, notModified } from "./etag.ts";
import { requireCsrfToken, requireSameOrigin } from "./guard.ts";
import { type Session, Sessions } from "./session.ts";

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
 * What the console needs of the backend: its admin token, interval and public address, whether it
 * names an agent binary, and of the store only a sensor's recent counters, the sessions and the
 * audit trail; all else goes through the admin API (AdminApi).
 */
export interface ConsoleOptions {
  readonly store: Pick<Store, "recentCounters" | "sessions" | "audit">;
  readonly adminToken: string;
  readonly heartbeatIntervalSeconds: number;
  readonly publicUrl: string;
  readonly agentBinary?: { readonly url: string };
}

/** One request to an endpoint, with what it may use. */
export interface Call {
  readonly request: Request;
  readonly guesses: Guesses;
  readonly options: ConsoleOptions;
  readonly now: number;
  readonly api: AdminApi;
  readonly sessions: Sessions;
  /** The real client's address (http/client.ts): the audit trail's "from". */
  readonly client: string;
}

/** An endpoint: the call, and the sensor id or token fingerprint its path names (or ""). */
export type Route = (call: Call, id: string) => Promise<Response>;

/** Who the admin API was called for, by the request the console made (see `admin`). */
const callers = new WeakMap<Request, { who: string; from: string }>();

/**
 * The session and browser address on whose behalf the console made `request` to the admin API;
 * undefined for any request the console did not make. The admin API's audit trail names them.
 */
export function consoleCaller(request: Request): { who: string; from: string } | undefined {
  return callers.get(request);
}

/** How the audit trail names a session. */
export function sessionName(session: Session): string {
  return `console session ${session.fingerprint}`;
}

/**
 * Calls the admin API as the admin on behalf of `session`; its refusal becomes the console's,
 * with the same status. `path` may carry a query.
 */
export async function admin(
  call: Call,
  session: Session,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const request = new Request(new URL(path, call.request.url), {
    method,
    headers: {
      "Authorization": `Bearer ${call.options.adminToken}`,
      "Content-Type": "application/json",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  callers.set(request, { who: sessionName(session), from: call.client });
  const response = await call.api(request);
  const reply = await response.json();
  if (reply.success !== true) throw refusal(response.status, String(reply.error));
  return reply.data;
}

/** Records what the console itself did (a login, a logout) in the audit trail. */
export async function auditConsole(
  call: Call,
  session: Session,
  event: Pick<AuditEvent, "action" | "detail">,
): Promise<void> {
  await call.options.store.audit.record({
    at: call.now,
    who: sessionName(session),
    from: call.client,
    target: null,
    ...event,
  });
}

/** The call's open session, or a 401 refusal. */
export async function requireSession(call: Call): Promise<Session> {
  const session = await call.sessions.find(call.request, call.now);
  if (session === undefined) throw refusal(401, "log in to the console");
  return session;
}

/** The checks of a state-changing request: same origin, JSON, a session and its CSRF token. */
export async function guardChange(call: Call): Promise<Session> {
  requireSameOrigin(call.request, origins(call), SECURITY_HEADERS);
  const session = await requireSession(call);
  requireCsrfToken(call.request, session, SECURITY_HEADERS);
  return session;
}

/** What the page is told of its session: the CSRF token to echo, the interval, the binary. */
export function sessionInfo(call: Call, session: Session) {
  return {
    csrfToken: session.csrfToken,
    heartbeatIntervalSeconds: call.options.heartbeatIntervalSeconds,
    agentBinaryUrl: call.options.agentBinary?.url ?? null,
    expiresAt: new Date(session.expiresAt).toISOString(),
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

/** A fresh Sessions over the store's session records (it keeps no state of its own). */
export function sessionsOf(options: ConsoleOptions): Sessions {
  return new Sessions(options.store.sessions);
}
