// reference-backend/server.ts: the routes of the reference backend (docs/api.md). Each handler
// reads and checks its request, asks the store, and answers in the JSON envelope of http.ts; the
// two files of the install command (downloads.ts) are served as they are. Load is shed with 429 or
// 503 and Retry-After; a 500 means a bug. Text from sensors is logged through escapeForDisplay.
import { log } from "../lib/log.ts";
import { fingerprint } from "../lib/secrets.ts";
import type { HeartbeatBody } from "../lib/backend/mod.ts";
import { isConsolePath, serveConsole } from "./console/mod.ts";
import { Coalescer, TooManyWaiting } from "./coalesce.ts";
import type { RequestInfo } from "./connection.ts";
import { escapeForDisplay } from "./display.ts";
import { DOWNLOADS, type Downloads } from "./downloads.ts";
import { enroll } from "./enrollment.ts";
import { failure, HttpError, ok, readJson } from "./http.ts";
import { fileDigest, type FileDigests, installCommand } from "./install.ts";
import { type FailureLimit, FailureLimiter } from "./ratelimit.ts";
import {
  type AgentBinary,
  DEFAULT_ENROLL_FAILURE_LIMIT,
  DEFAULT_ENROLL_FAILURE_WINDOW_SECONDS,
} from "./settings.ts";
import { Contended, type SensorRecord, type Store } from "./store.ts";
import { digest, randomToken, sameSecret } from "./tokens.ts";
import {
  type Checked,
  checkEnrollment,
  checkHeartbeat,
  checkIdempotencyKey,
  checkMintRequest,
} from "./validate.ts";

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
}

/** The options, with the state the routes share across requests (one per createHandler). */
interface Context extends ServerOptions {
  readonly failedEnrollments: FailureLimiter;
  /** Wrong admin tokens per client address: Bearer on /api/ and console logins together. */
  readonly failedAdminLogins: FailureLimiter;
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
// ADMIN_TOKEN may be as short as 16 characters, chosen by a person: wrong ones (a Bearer header or
// a console login) are limited per address like failed enrollments, or it could be guessed at
// full speed.
const ADMIN_FAILURES: FailureLimit = { limit: 10, windowMs: 600_000 };

/** A sensor counts as online while its last beat is at most this many intervals old. */
export const ONLINE_INTERVALS = 3;

type Handler = (
  request: Request,
  options: Context,
  now: number,
  client: string,
) => Promise<Response>;

const SENSOR_PATH = /^\/api\/sensors\/([0-9a-f-]{36})(\/revoke)?$/;

/**
 * The request handler for the server (listener.ts): every request gets an answer, load is shed
 * with 429/503 and Retry-After, and only a bug answers 500. `info` names the client, whose
 * address the enrollment limit counts; without it all clients count as one.
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
    failedAdminLogins: (options as Partial<Context>).failedAdminLogins ??
      new FailureLimiter(ADMIN_FAILURES),
    digests: () => digests ??= downloadDigests(options.downloads),
  };
  return async (request, info) => {
    const path = new URL(request.url).pathname;
    try {
      const handler = route(request.method, path);
      return await handler(request, context, Date.now(), info?.remoteAddr.hostname ?? "unknown");
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
      serveConsole(r, o, n, createHandler(o), {
        retryAfterMs: () => o.failedAdminLogins.retryAfterMs(c, n),
        fail: () => o.failedAdminLogins.fail(c, n),
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

/**
 * Throws 401 unless the request carries `Authorization: Bearer <ADMIN_TOKEN>`, and 429 without
 * looking when `client` sent too many wrong ones (a missing header is no guess).
 */
function requireAdmin(request: Request, options: Context, now: number, client: string): void {
  const token = bearer(request);
  if (token !== undefined) refuseGuesser(options.failedAdminLogins, client, now);
  if (token === undefined || !sameSecret(token, options.adminToken)) {
    if (token !== undefined) options.failedAdminLogins.fail(client, now);
    throw new HttpError(401, "admin token required", {
      "WWW-Authenticate": 'Bearer realm="ravenxcope-admin"',
    }, { client });
  }
}

/** Throws 429 with Retry-After when `client` is over `limiter`'s count of failures. */
function refuseGuesser(limiter: FailureLimiter, client: string, now: number): void {
  const waitMs = limiter.retryAfterMs(client, now);
  if (waitMs > 0) {
    throw new HttpError(429, "too many wrong admin tokens from this address; retry later", {
      "Retry-After": String(Math.ceil(waitMs / 1000)),
    }, { client });
  }
}

function bearer(request: Request): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(request.headers.get("authorization") ?? "");
  return match?.[1];
}

function valid<T>(result: Checked<T>): T {
  if (!result.ok) throw new HttpError(400, result.reason);
  return result.value;
}

async function mintInstallToken(
  request: Request,
  options: Context,
  now: number,
  client: string,
) {
  requireAdmin(request, options, now, client);
  const { ttlSeconds, note } = valid(checkMintRequest(await readJson(request)));
  const installToken = randomToken();
  const expiresAt = now + ttlSeconds * 1000;
  await options.store.addInstallToken(digest(installToken), {
    createdAt: now,
    expiresAt,
    note: note ?? null,
    consumed: null,
  });
  log.info("install token minted", { token: fingerprint(installToken), ttlSeconds });
  return ok({
    installToken,
    expiresAt: new Date(expiresAt).toISOString(),
    installCommand: installCommand(
      options.publicUrl,
      options.digests(),
      options.agentBinary,
      options.insecureHttp,
    ),
  }, 201);
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
  const token = bearer(request);
  const rejected = new HttpError(401, "sensor token unknown or revoked", {
    "WWW-Authenticate": 'Bearer realm="ravenxcope-sensor"',
  });
  // Who is asking comes first: a stranger's body is not read, and gets 401 whatever it holds.
  if (token === undefined || await options.store.sensorByToken(digest(token)) === null) {
    throw rejected;
  }
  const body = valid(checkHeartbeat(await readJson(request)));
  // One write at a time per sensor; beats arriving meanwhile are merged into the next write.
  const sensor = await options.beats.submit(digest(token), { body, now, count: 1 });
  if (sensor === null) throw rejected;
  log.debug("heartbeat", {
    sensorId: sensor.id,
    beats: sensor.heartbeats,
    hostname: escapeForDisplay(sensor.hostname),
  });
  return ok({ heartbeatIntervalSeconds: options.heartbeatIntervalSeconds });
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

async function listSensors(request: Request, options: Context, now: number, client: string) {
  requireAdmin(request, options, now, client);
  const sensors = await options.store.sensors();
  sensors.sort((a, b) => a.enrolledAt - b.enrolledAt || a.id.localeCompare(b.id));
  return ok({ sensors: sensors.map((sensor) => describeSensor(sensor, options, now)) });
}

async function showSensor(
  request: Request,
  options: Context,
  now: number,
  client: string,
  id: string,
) {
  requireAdmin(request, options, now, client);
  const sensor = await options.store.sensor(id);
  if (sensor === null) throw new HttpError(404, "no such sensor");
  const interfaces = await options.store.interfaces(id);
  return ok({ ...describeSensor(sensor, options, now), interfaces });
}

async function revokeSensor(
  request: Request,
  options: Context,
  now: number,
  client: string,
  id: string,
) {
  requireAdmin(request, options, now, client);
  const sensor = await options.store.revoke(id, now);
  if (sensor === null) throw new HttpError(404, "no such sensor");
  log.info("sensor revoked", { sensorId: id });
  return ok(describeSensor(sensor, options, now));
}

/** A sensor as the admin API shows it: no digests, times as ISO 8601. */
function describeSensor(sensor: SensorRecord, options: ServerOptions, now: number) {
  const iso = (ms: number | null) => ms === null ? null : new Date(ms).toISOString();
  const online = sensor.revokedAt === null &&
    now - sensor.lastSeenAt <= ONLINE_INTERVALS * options.heartbeatIntervalSeconds * 1000;
  return {
    id: sensor.id,
    label: sensor.label,
    hostname: sensor.hostname,
    sensorIp: sensor.sensorIp,
    sensorPort: sensor.sensorPort,
    osInfo: sensor.osInfo,
    architecture: sensor.architecture,
    agentVersion: sensor.agentVersion,
    sudoUser: sensor.sudoUser,
    enrolledAt: iso(sensor.enrolledAt),
    lastSeenAt: iso(sensor.lastSeenAt),
    online,
    heartbeats: sensor.heartbeats,
    uptimeSeconds: sensor.uptimeSeconds,
    interfaceCount: sensor.interfaceCount,
    revokedAt: iso(sensor.revokedAt),
  };
}
