// reference-backend/console/guard.ts: what a state-changing console request must show before it is
// served (CSRF). Three checks, each enough alone against a cross-site form post: the browser's
// Sec-Fetch-Site and Origin say the request came from the console's own origin; the body is JSON (a
// form cannot send that type without a CORS preflight, which the backend never grants); and the
// session's CSRF token is in the X-CSRF-Token header, which no other page can read or set. The
// SameSite=Strict cookie is a fourth layer: it does not help against a page on the same site
// (another port of the same host), which the first three do.
import { HttpError } from "../http/mod.ts";
import { sameSecret } from "../store/mod.ts";
import type { Session } from "./session.ts";

/** The header that carries the session's CSRF token. */
export const CSRF_HEADER = "x-csrf-token";

/**
 * Throws 403 unless the request comes from one of `origins` (by Sec-Fetch-Site and Origin, when
 * the browser sends them) and carries a JSON body type. `headers` go on the refusal.
 */
export function requireSameOrigin(
  request: Request,
  origins: readonly string[],
  headers: HeadersInit,
): void {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") {
    throw new HttpError(403, "cross-site request refused", headers);
  }
  const origin = request.headers.get("origin");
  if (origin !== null && !origins.includes(origin)) {
    throw new HttpError(403, "cross-origin request refused", headers);
  }
  const type = request.headers.get("content-type")?.split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError(415, "send application/json", headers);
  }
}

/** Throws 403 unless the request's X-CSRF-Token header holds the session's CSRF token. */
export function requireCsrfToken(request: Request, session: Session, headers: HeadersInit): void {
  const token = request.headers.get(CSRF_HEADER);
  if (token === null || !sameSecret(token, session.csrfToken)) {
    throw new HttpError(403, "CSRF token missing or wrong; reload the console", headers);
  }
}
