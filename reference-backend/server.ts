// reference-backend/server.ts: the routes of the reference backend (docs/api.md). Each handler
// reads and checks its request, asks the store, and answers in the JSON envelope of http.ts; the
// two files of the install command (downloads.ts) are served as they are. Routes are chosen by the
// plain path only (target.ts); failures are counted per real client (client.ts, ratelimit.ts).
// Load is shed with 429 or 503 and Retry-After; a 500 means a bug. Text from sensors is logged
// through escapeForDisplay.
import { isLogged, log } from "../lib/log.ts";
import { fingerprint } from "../lib/secrets.ts";
import type { HeartbeatBody } from "../lib/backend/mod.ts";
import { isConsolePath, serveConsole } from "./console/mod.ts";
import { Coalescer, TooManyWaiting } from "./coalesce.ts";
import { escapeForDisplay } from "./display.ts";
import { DOWNLOADS, type Downloads } from "./downloads.ts";
import { enroll } from "./enrollment.ts";
import { bearerToken, failure, HttpError, ok, readJson, valid } from "./http.ts";
import { fileDigest, type FileDigests } from "./install.ts";
import { clientOf } from "./client.ts";
import { ADMIN_BACKOFF, listSensors, mintInstallToken, revokeSensor, showSensor } from "./admin.ts";
import { type FailureLimit, FailureLimiter, GuessBackoff } from "./ratelimit.ts";
import {
  type AgentBinary,
  DEFAULT_ENROLL_FAILURE_LIMIT,
  DEFAULT_ENROLL_FAILURE_WINDOW_SECONDS,
} from "./settings.ts";
import { Contended, type SensorRecord, type Store, TooLargeToStore } from "./store.ts";
import { requestPath } from "./target.ts";
import { digest } from "./tokens.ts";
import { checkEnrollment, checkHeartbeat, checkIdempotencyKey } from "./validate.ts";

export { ONLINE_INTERVALS } from "./admin.ts";

/** What the routes need: the store and the settings they check or hand out. */
export interface ServerOptions {
  readonly store: Store;
  readonly adminToken: string;
  readonly heartbeatIntervalSeconds: number;
  /** The backend's own address, sent to agents as `backendUrl` and used in installCommand. */
  readonly publicUrl: string;
  /** The agent binary installCommand downloads; unset: ./sensor-agent on the host. */
  readonly agentBinary?: AgentBinary;
  /** install.sh and the unit, served without authentication for installCommand (downloads.ts). */
  readonly downloads: Downloads;
  /** DEV_INSECURE_HTTP=1: installCommand may use an http:// publicUrl, and says so. */
  readonly insecureHttp?: boolean;
  /** Failed enrollments allowed per client address (default: 10 per 600 s). */
  readonly enrollFailures?: FailureLimit;
  /** Proxies whose X-Forwarded-For names the client (client.ts); none by default. */
  readonly trustedProxies?: ReadonlySet<string>;
}

/** What a handler is told besides the request: the socket's peer (Deno.serve's info has it). */
export interface RequestInfo {
  readonly remoteAddr: Deno.NetAddr;
}

/** The options, with the state the routes share across requests (one per createHandler). */
export interface Context extends ServerOptions {
  readonly failedEnrollments: FailureLimiter;
  /** Wrong admin tokens per client address: Bearer on /api/ and console logins together. */
  readonly adminGuesses: GuessBackoff;
  readonly beats: Coalescer<Beat, SensorRecord | null>;
  readonly digests: () => FileDigests;
}

/** Heartbeats of one sensor waiting for a write, merged: the latest body, and how many. */
interface Beat {
  readonly body: HeartbeatBody;
  readonly now: number;
  readonly count: number;
}

// A sensor beats once per interval; this many of its beats waiting at once is a storm (a leaked
// token, a bug). They get 429 at once instead of holding connections while they wait.
const MAX_WAITING_BEATS = 64;
const BEAT_RETRY_AFTER_SECONDS = 5;
const CONTENDED_RETRY_AFTER_SECONDS = 1;

/** A route: the request, the shared state, the time and the real client's address. */
export type Handler = (
  request: Request,
  options: Context,
  now: number,
  client: string,
) => Promise<Response>;

const SENSOR_PATH = /^\/api\/sensors\/([0-9a-f-]{36})(\/revoke)?$/;

/**
 * The request handler for Deno.serve (serve.ts): every request gets an answer, load is shed with
 * 429/503 and Retry-After, and only a bug answers 500. `info` names the socket's peer: the client,
 * or a trusted proxy that names the client in X-Forwarded-For (client.ts). Without it (a request
 * made in process, as the console's) the client is "in-process".
 */
export function createHandler(
  options: ServerOptions,
): (request: Request, info?: RequestInfo) => Promise<Response> {
  let digests: FileDigests | undefined;
  const context: Context = {
    ...options,
    failedEnrollments: new FailureLimiter(
      options.enrollFailures ?? {
        limit: DEFAULT_ENROLL_FAILURE_LIMIT,
        windowMs: DEFAULT_ENROLL_FAILURE_WINDOW_SECONDS * 1000,
      },
    ),
    beats: new Coalescer<Beat, SensorRecord | null>(
      (earlier, later) => ({ ...later, count: earlier.count + later.count }),
      (tokenDigest, beat) =>
        options.store.recordHeartbeat(tokenDigest, (sensor) => applyBeat(sensor, beat)),
      MAX_WAITING_BEATS,
    ),
    // The console calls a handler of its own per request (route): it shares the caller's count.
    adminGuesses: (options as Partial<Context>).adminGuesses ?? new GuessBackoff(ADMIN_BACKOFF),
    digests: () => digests ??= downloadDigests(options.downloads),
  };
  const trusted = options.trustedProxies ?? new Set<string>();
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
      return await handler(request, context, Date.now(), client.address);
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
  if (error instanceof Contended) {
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
  // The operator console (console/mod.ts) calls this same handler with the admin token.
  if (isConsolePath(path)) {
    return (r, o, n, c) =>
      serveConsole(r, path, o, n, createHandler(o), {
        retryAfterMs: () => o.adminGuesses.retryAfterMs(c, n),
        fail: () => o.adminGuesses.fail(c, n),
        succeed: () => o.adminGuesses.succeed(c),
      });
  }
  if (Object.hasOwn(DOWNLOADS, path)) {
    return allow("GET, HEAD", (r, o) => download(r, o, path));
  }
  if (path === "/api/install-tokens") return allow("POST", mintInstallToken);
  if (path === "/api/sensors/enroll") return allow("POST", enrollSensor);
  if (path === "/api/sensors/heartbeat") return allow("POST", heartbeat);
  if (path === "/api/sensors") return allow("GET", listSensors);
  const match = SENSOR_PATH.exec(path);
  if (match?.[2]) return allow("POST", (r, o, n, c) => revokeSensor(r, o, n, c, match[1]));
  if (match) return allow("GET", (r, o, n, c) => showSensor(r, o, n, c, match[1]));
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

async function enrollSensor(request: Request, options: Context, now: number, client: string) {
  // Checked before the token is: over the limit, a guess is not even looked at.
  const waitMs = options.failedEnrollments.retryAfterMs(client, now);
  if (waitMs > 0) {
    throw new HttpError(429, "too many failed enrollments from this address; retry later", {
      "Retry-After": String(Math.ceil(waitMs / 1000)),
    }, { client });
  }
  const payload = valid(checkEnrollment(await readJson(request)));
  const idempotencyKey = valid(checkIdempotencyKey(request.headers.get("idempotency-key")));
  const result = await enroll(options.store, payload, idempotencyKey, now);
  if (result.kind === "refused") {
    options.failedEnrollments.fail(client, now);
    // One answer for unknown, expired and spent tokens: the reply is no oracle for a guesser.
    throw new HttpError(401, "install token unknown, expired or already used", {
      "WWW-Authenticate": 'Bearer realm="ravenxcope-enrollment"',
    }, { why: result.why, token: fingerprint(payload.installToken), client });
  }
  log.info(result.replayed ? "enrollment replayed" : "sensor enrolled", {
    sensorId: result.sensorId,
    hostname: escapeForDisplay(payload.hostname),
    sensorIp: payload.sensorIp,
    token: fingerprint(result.sensorToken),
  });
  return ok({
    sensorId: result.sensorId,
    sensorToken: result.sensorToken,
    backendUrl: options.publicUrl,
    heartbeatIntervalSeconds: options.heartbeatIntervalSeconds,
  });
}

async function heartbeat(request: Request, options: Context, now: number) {
  const token = bearerToken(request);
  const tokenDigest = token === undefined ? undefined : digest(token);
  // Who is asking comes first: a stranger's body is not read, and gets 401 whatever it holds.
  if (tokenDigest === undefined || await options.store.sensorByToken(tokenDigest) === null) {
    throw sensorRejected();
  }
  const body = valid(checkHeartbeat(await readJson(request)));
  // One write at a time per sensor; beats arriving meanwhile are merged into the next write.
  const sensor = await options.beats.submit(tokenDigest, { body, now, count: 1 });
  if (sensor === null) throw sensorRejected();
  if (isLogged("debug")) {
    log.debug("heartbeat", {
      sensorId: sensor.id,
      beats: sensor.heartbeats,
      hostname: escapeForDisplay(sensor.hostname),
    });
  }
  return ok({ heartbeatIntervalSeconds: options.heartbeatIntervalSeconds });
}

// Made only when needed: an Error captures a stack trace, a cost no beat that passes should pay.
function sensorRejected(): HttpError {
  return new HttpError(401, "sensor token unknown or revoked", {
    "WWW-Authenticate": 'Bearer realm="ravenxcope-sensor"',
  });
}

/** The sensor after `beat`: the latest body's facts, and the beats counted. */
function applyBeat(sensor: SensorRecord, beat: Beat) {
  const { body } = beat;
  return {
    sensor: {
      ...sensor,
      label: body.sensorLabel,
      hostname: body.hostname,
      sensorIp: body.sensorIp,
      agentVersion: body.agentVersion,
      uptimeSeconds: body.uptimeSeconds,
      interfaceCount: body.interfaces.length,
      lastSeenAt: Math.max(sensor.lastSeenAt, beat.now),
      heartbeats: sensor.heartbeats + beat.count,
    },
    interfaces: body.interfaces,
  };
}
