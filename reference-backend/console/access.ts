// reference-backend/console/access.ts: logging in to the console and out of it: the session's
// endpoints (session.ts), and the one-time login codes a script mints with the admin token. Each
// login, logout and code is an audit event.
import { bearerToken, readJson } from "../http/mod.ts";
import {
  auditConsole,
  type Call,
  guardChange,
  json,
  origins,
  refusal,
  requireSession,
  secure,
  sessionInfo,
} from "./call.ts";
import { requireSameOrigin } from "./guard.ts";
import { SECURITY_HEADERS } from "./assets.ts";
import { clearedCookie, isAdminToken, sessionCookie } from "./session.ts";

/** GET /console/api/session: the CSRF token and the interval, for a page that is logged in. */
export async function showSession(call: Call): Promise<Response> {
  const session = await requireSession(call);
  return json(sessionInfo(call, session));
}

/** POST /console/api/login `{ secret }`: the admin token or a one-time code opens a session. */
export async function login(call: Call): Promise<Response> {
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
  const byToken = secret !== "" && secret.length <= 4096 &&
    isAdminToken(secret, call.options.adminToken);
  const accepted = byToken ||
    (secret !== "" && secret.length <= 4096 && await call.sessions.spendCode(secret, call.now));
  if (!accepted) {
    if (secret !== "") call.guesses.fail();
    throw refusal(401, "admin token or one-time code not accepted");
  }
  call.guesses.succeed();
  const { id, session } = await call.sessions.open(call.now);
  await auditConsole(call, session, {
    action: "login",
    detail: byToken ? "with the admin token" : "with a one-time code",
  });
  return json(sessionInfo(call, session), 200, {
    "Set-Cookie": sessionCookie(id, secure(call)),
  });
}

/**
 * POST /console/api/logout `{ everywhere? }`: ends this session, or with `everywhere: true` every
 * session of every browser, and clears this one's cookie.
 */
export async function logout(call: Call): Promise<Response> {
  const session = await guardChange(call);
  const body = await readJson(call.request) as { everywhere?: unknown } | undefined;
  if (body?.everywhere === true) {
    const ended = await call.sessions.closeAll();
    await auditConsole(call, session, {
      action: "logout.everywhere",
      detail: `${ended} ${ended === 1 ? "session" : "sessions"} ended`,
    });
  } else {
    await call.sessions.close(session);
    await auditConsole(call, session, { action: "logout", detail: null });
  }
  return json({}, 200, { "Set-Cookie": clearedCookie(secure(call)) });
}

/**
 * POST /console/api/login-codes, with `Authorization: Bearer <ADMIN_TOKEN>` (no cookie): a code
 * that logs in once within 10 minutes, so a script (the demo) can hand out a login without
 * showing the admin token. A bearer header is never sent by a browser on its own: no CSRF here.
 */
export async function mintLoginCode(call: Call): Promise<Response> {
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
  const { code, expiresAt } = await call.sessions.mintCode(call.now);
  await call.options.store.audit.record({
    at: call.now,
    who: "admin token",
    from: call.client,
    action: "login-code.mint",
    target: null,
    detail: `good once until ${new Date(expiresAt).toISOString()}`,
  });
  return json({ code, expiresAt: new Date(expiresAt).toISOString() }, 201);
}
