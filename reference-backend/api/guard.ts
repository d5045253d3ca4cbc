// reference-backend/api/guard.ts: the admin API's one check: `Authorization: Bearer <ADMIN_TOKEN>`.
// Wrong tokens slow their client down (http/ratelimit.ts, GuessBackoff); the right one is never
// locked out.
import { bearerToken, type GuessBackoff, HttpError } from "../http/mod.ts";
import { sameSecret } from "../store/mod.ts";
import type { Context } from "./context.ts";

/**
 * Throws 401 unless the request carries `Authorization: Bearer <ADMIN_TOKEN>`, and 429 without
 * looking while `client` waits out its wrong ones (a missing header is no guess).
 */
export function requireAdmin(request: Request, options: Context, now: number, client: string) {
  const token = bearerToken(request);
  if (token !== undefined) refuseGuesser(options.adminGuesses, client, now);
  if (token === undefined || !sameSecret(token, options.adminToken)) {
    if (token !== undefined) options.adminGuesses.fail(client, now);
    throw new HttpError(401, "admin token required", {
      "WWW-Authenticate": 'Bearer realm="ravenxcope-admin"',
    }, { client });
  }
  options.adminGuesses.succeed(client);
}

/** Throws 429 with Retry-After while `client` waits out its wrong admin tokens. */
function refuseGuesser(guesses: GuessBackoff, client: string, now: number): void {
  const waitMs = guesses.retryAfterMs(client, now);
  if (waitMs > 0) {
    throw new HttpError(429, "too many wrong admin tokens from this address; retry later", {
      "Retry-After": String(Math.ceil(waitMs / 1000)),
    }, { client });
  }
}
