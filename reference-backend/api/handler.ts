// reference-backend/api/handler.ts: the backend's request handler (docs/api.md): the route a plain
// path names (http/target.ts), the real client (http/client.ts), and every failure turned into its
// reply in the JSON envelope. The sensors' routes are in sensors.ts, the admin API's in admin.ts,
// fleet.ts, tokens.ts and audit.ts, a token's rotation (the sensor's request and the admin's) in
// rotation.ts, the console under /console (console/), and the install command's two files are
// served as they were read at start (install/). Load is shed with 429 or 503 and Retry-After; a 500
// means a bug. Text from sensors is logged through escapeForDisplay.
import { log } from "../../lib/log.ts";
import { isConsolePath, serveConsole } from "../console/mod.ts";
import {
  ADMIN_BACKOFF,
  clientOf,
  DEFAULT_ENROLL_FAILURES,
  failure,
  FailureLimiter,
  GuessBackoff,
  HttpError,
  requestPath,
} from "../http/mod.ts";
import { DOWNLOADS, type Downloads, fileDigest, type FileDigests } from "../install/mod.ts";
import { Contended, isStoreBusy, TooLargeToStore, TooManyWaiting } from "../store/mod.ts";
import { mintInstallToken, revokeSensor, showSensor } from "./admin.ts";
import { listAudit } from "./audit.ts";
import type { Context, Handler, RequestInfo, ServerOptions } from "./context.ts";
import { escapeForDisplay } from "./display.ts";
import { deleteSensor, listSensors } from "./fleet.ts";
import { rotateFleet, rotateSensor, rotateToken } from "./rotation.ts";
import { enrollSensor, heartbeat, heartbeatWriter } from "./sensors.ts";
import { cancelInstallToken, listInstallTokens } from "./tokens.ts";

const BEAT_RETRY_AFTER_SECONDS = 5;
const CONTENDED_RETRY_AFTER_SECONDS = 1;

const SENSOR_PATH = /^\/api\/sensors\/([0-9a-f-]{36})(\/revoke|\/rotate)?$/;
const INSTALL_TOKEN_PATH = /^\/api\/install-tokens\/([0-9a-f]{12})$/;

/**
 * The request handler for Deno.serve (http/serve.ts): every request gets an answer, load is shed
 * with 429/503 and Retry-After, and only a bug answers 500. `info` names the socket's peer: the
 * client, or a trusted proxy that names the client in X-Forwarded-For (http/client.ts). Without it
 * (a request made in process, as the console's) the client is "in-process".
 */
export function createHandler(
  options: ServerOptions,
): (request: Request, info?: RequestInfo) => Promise<Response> {
  let digests: FileDigests | undefined;
  const context: Context = {
    ...options,
    failedEnrollments: new FailureLimiter(options.enrollFailures ?? DEFAULT_ENROLL_FAILURES),
    beats: heartbeatWriter(options.store),
    // The console calls a handler of its own per request (route): it shares the caller's count.
    adminGuesses: (options as Partial<Context>).adminGuesses ?? new GuessBackoff(ADMIN_BACKOFF),
    digests: () => digests ??= downloadDigests(options.downloads),
  };
  const trusted = options.trustedProxies ?? new Set<string>();
  const clock = options.clock ?? Date.now;
  let unnamedWarned = false;
  return async (request, info) => {
    // Until the path is known to be plain, the log shows none of it.
    let path = "(refused target)";
    try {
      path = requestPath(request);
      const client = clientOf(request, info?.remoteAddr.hostname ?? "in-process", trusted);
      if (client.unnamed && !unnamedWarned) {
        unnamedWarned = true;
        log.warn(
          "a request from a trusted proxy carried no valid X-Forwarded-For: its failures count " +
            "against the proxy's own address; set it in the proxy (deploy/backend/nginx.conf)",
          { proxy: client.address },
        );
      }
      const handler = route(request.method, path);
      return await handler(request, context, clock(), client.address);
    } catch (caught) {
      const error = shed(caught);
      if (error instanceof HttpError) {
        // The reason names a field or a rule, never a value: safe to log.
        log.info(`${request.method} ${path} refused`, {
          status: error.status,
          reason: error.message,
          ...error.detail,
        });
        return failure(error);
      }
      log.error(`${request.method} ${path} failed: ${escapeForDisplay(String(error))}`);
      return failure(new HttpError(500, "internal error; see the backend's log"));
    }
  };
}

/** A load condition as the 429/503 it is answered with; any other error as it is. */
function shed(error: unknown): unknown {
  if (error instanceof TooManyWaiting) {
    return new HttpError(429, "too many heartbeats of this sensor at once", {
      "Retry-After": String(BEAT_RETRY_AFTER_SECONDS),
    });
  }
  if (error instanceof TooLargeToStore) return new HttpError(413, error.message);
  if (error instanceof Contended || isStoreBusy(error)) {
    return new HttpError(503, "the record is busy; retry", {
      "Retry-After": String(CONTENDED_RETRY_AFTER_SECONDS),
    }, { why: error.message });
  }
  return error;
}

function downloadDigests(downloads: Downloads): FileDigests {
  const digests: Record<string, string> = {};
  for (const [route, bytes] of downloads) digests[route.slice(1)] = fileDigest(bytes);
  return digests;
}

function route(method: string, path: string): Handler {
  const allow = (allowed: string, handler: Handler): Handler => {
    if (allowed.split(", ").includes(method)) return handler;
    throw new HttpError(405, `use ${allowed}`, { Allow: allowed });
  };
  // One handler per method of a path.
  const methods = (handlers: Record<string, Handler>): Handler =>
    allow(Object.keys(handlers).join(", "), handlers[method]);
  // The operator console (console/mod.ts) calls this same handler with the admin token.
  if (isConsolePath(path)) {
    return (r, o, n, c) =>
      serveConsole(r, path, o, n, createHandler(o), c, {
        retryAfterMs: () => o.adminGuesses.retryAfterMs(c, n),
        fail: () => o.adminGuesses.fail(c, n),
        succeed: () => o.adminGuesses.succeed(c),
      });
  }
  if (Object.hasOwn(DOWNLOADS, path)) {
    return allow("GET, HEAD", (r, o) => download(r, o, path));
  }
  if (path === "/api/install-tokens") {
    return methods({ GET: listInstallTokens, POST: mintInstallToken });
  }
  if (path === "/api/sensors/enroll") return allow("POST", enrollSensor);
  if (path === "/api/sensors/heartbeat") return allow("POST", heartbeat);
  if (path === "/api/sensors/token") return allow("POST", rotateToken);
  if (path === "/api/sensors") return allow("GET", listSensors);
  if (path === "/api/sensors/rotate") return allow("POST", rotateFleet);
  if (path === "/api/audit") return allow("GET", listAudit);
  const token = INSTALL_TOKEN_PATH.exec(path)?.[1];
  if (token) return allow("DELETE", (r, o, n, c) => cancelInstallToken(r, o, n, c, token));
  const match = SENSOR_PATH.exec(path);
  if (match?.[2] === "/rotate") {
    return allow("POST", (r, o, n, c) => rotateSensor(r, o, n, c, match[1]));
  }
  if (match?.[2]) return allow("POST", (r, o, n, c) => revokeSensor(r, o, n, c, match[1]));
  if (match) {
    return methods({
      GET: (r, o, n, c) => showSensor(r, o, n, c, match[1]),
      DELETE: (r, o, n, c) => deleteSensor(r, o, n, c, match[1]),
    });
  }
  throw new HttpError(404, "no such endpoint");
}

/** GET /install.sh, GET /sensor-agent.service: the file as read at start, byte for byte. */
function download(request: Request, options: ServerOptions, path: string): Promise<Response> {
  const bytes = options.downloads.get(path);
  if (bytes === undefined) {
    throw new HttpError(404, `${DOWNLOADS[path]} was not readable when the backend started`);
  }
  log.debug(`served ${path}`, { bytes: bytes.length });
  return Promise.resolve(
    new Response(request.method === "HEAD" ? null : bytes.slice(), {
      headers: {
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Length": String(bytes.length),
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
      },
    }),
  );
}
