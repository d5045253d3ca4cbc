// reference-backend/console/mod.ts: the operator console at /console (docs/api.md, "The operator
// console"): a page and its JSON endpoints under /console/api/. Owns the page, its static files and
// the favicon (assets.ts, static/), the sessions and one-time login codes (session.ts, access.ts),
// the guards of a change (guard.ts), the endpoints for sensors (actions.ts) and for install tokens
// and the audit trail (tokens.ts), and the ETags of polled views (etag.ts). The endpoints are a
// thin front on the admin API: they swap the console's session cookie for the admin token and call
// the backend's own handler, handed in as AdminApi, so listing, minting, revoking, removing and
// rotating follow exactly the rules, logs and audit events of /api/, which learn from
// `consoleCaller` which session asked and from where. Never imports the routes, and never touches
// the store but to read a sensor's recent counters, keep sessions and record logins and logouts.
import { login, logout, mintLoginCode, showSession } from "./access.ts";
import { bulk, detail, fleet, remove, revoke, rotate, rotateFleet } from "./actions.ts";
import { type Asset, FAVICON, PAGE, SECURITY_HEADERS, STATIC } from "./assets.ts";
import {
  type AdminApi,
  type ConsoleOptions,
  type Guesses,
  refusal,
  type Route,
  sessionsOf,
} from "./call.ts";
import { auditTrail, cancelInstallToken, installTokens, mintInstallToken } from "./tokens.ts";

export { consoleCaller } from "./call.ts";
export type { AdminApi, ConsoleOptions, Guesses };

const SENSOR = /^\/console\/api\/sensors\/([0-9a-f-]{36})(?:\/(revoke|delete|rotate))?$/;
const INSTALL_TOKEN = /^\/console\/api\/install-tokens\/([0-9a-f]{12})\/cancel$/;
const SENSOR_ACTIONS: Record<string, Route> = { revoke, delete: remove, rotate };

/** True for the paths the console serves: /console, everything under it, and the favicon. */
export function isConsolePath(path: string): boolean {
  return path === "/console" || path.startsWith("/console/") || path === "/favicon.ico";
}

/**
 * Answers a request for the console path `path` (plain: the backend's http/target.ts checked it)
 * from `client` (the real client's address). `api` is the backend's handler; refusals are thrown
 * as HttpError (with the console's security headers) for the backend to log and answer.
 */
export async function serveConsole(
  request: Request,
  path: string,
  options: ConsoleOptions,
  now: number,
  api: AdminApi,
  client: string,
  guesses: Guesses,
): Promise<Response> {
  const sessions = sessionsOf(options);
  const { handler, id } = route(request.method, path);
  return await handler({ request, options, now, api, sessions, guesses, client }, id);
}

function route(method: string, path: string): { handler: Route; id: string } {
  const allow = (allowed: string, handler: Route, id = "") => {
    if (allowed.split(", ").includes(method)) return { handler, id };
    throw refusal(405, `use ${allowed}`, { Allow: allowed });
  };
  if (path === "/console" || path === "/console/") return allow("GET, HEAD", () => asset(PAGE));
  if (path === "/favicon.ico") return allow("GET, HEAD", () => asset(FAVICON));
  const file = /^\/console\/static\/([a-z]+\.(?:js|css|svg))$/.exec(path)?.[1];
  const found = file === undefined ? undefined : STATIC.get(file);
  if (found !== undefined) return allow("GET, HEAD", () => asset(found));
  if (path === "/console/api/session") return allow("GET", showSession);
  if (path === "/console/api/login") return allow("POST", login);
  if (path === "/console/api/logout") return allow("POST", logout);
  if (path === "/console/api/login-codes") return allow("POST", mintLoginCode);
  if (path === "/console/api/fleet") return allow("GET", fleet);
  if (path === "/console/api/audit") return allow("GET", auditTrail);
  if (path === "/console/api/sensors/rotate") return allow("POST", rotateFleet);
  if (path === "/console/api/sensors/bulk") return allow("POST", bulk);
  if (path === "/console/api/install-tokens") {
    return allow("GET, POST", method === "GET" ? installTokens : mintInstallToken);
  }
  const token = INSTALL_TOKEN.exec(path)?.[1];
  if (token !== undefined) return allow("POST", cancelInstallToken, token);
  const sensor = SENSOR.exec(path);
  if (sensor?.[2]) return allow("POST", SENSOR_ACTIONS[sensor[2]], sensor[1]);
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
