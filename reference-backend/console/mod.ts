// reference-backend/console/mod.ts: the operator console at /console (docs/api.md, "The operator
// console"): a page and its JSON endpoints under /console/api/. Owns the page and its static files
// (assets.ts, static/), the sessions and one-time login codes (session.ts, access.ts), the guards of
// a change (guard.ts), and the fleet as the page shows it (fleet.ts, actions.ts). The endpoints are
// a thin front on the admin API: they swap the console's session cookie for the admin token and
// call the backend's own handler, handed in as AdminApi, so minting, listing and revoking follow
// exactly the rules (and logs) of /api/. Never imports the routes, and never touches the store but
// to read a sensor's recent counters.
import { login, logout, mintLoginCode, showSession } from "./access.ts";
import { detail, fleet, mintInstallToken, revoke } from "./actions.ts";
import { type Asset, PAGE, SECURITY_HEADERS, STATIC } from "./assets.ts";
import { type AdminApi, type ConsoleOptions, type Guesses, refusal, type Route } from "./call.ts";
import { Sessions } from "./session.ts";

export type { AdminApi, ConsoleOptions, Guesses };

// One set of sessions per backend (per its options), so tests can run several in one process.
const sessionsByBackend = new WeakMap<ConsoleOptions, Sessions>();

const SENSOR = /^\/console\/api\/sensors\/([0-9a-f-]{36})(\/revoke)?$/;

/** True for the paths the console serves. */
export function isConsolePath(path: string): boolean {
  return path === "/console" || path.startsWith("/console/");
}

/**
 * Answers a request for the console path `path` (plain: the backend's http/target.ts checked it). `api`
 * is the backend's handler; refusals are thrown as HttpError (with the console's security headers)
 * for the backend to log and answer.
 */
export async function serveConsole(
  request: Request,
  path: string,
  options: ConsoleOptions,
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
