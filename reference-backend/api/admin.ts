// reference-backend/api/admin.ts: the admin API's routes (docs/api.md): minting install tokens,
// the fleet, one sensor, revocation. Each needs `Authorization: Bearer <ADMIN_TOKEN>`; wrong tokens
// slow their client down (http/ratelimit.ts, GuessBackoff) and the right one is never locked out.
import { log } from "../../lib/log.ts";
import { fingerprint } from "../../lib/secrets.ts";
import { bearerToken, type GuessBackoff, HttpError, ok, readJson } from "../http/mod.ts";
import { installCommand } from "../install/mod.ts";
import {
  digest,
  ONLINE_INTERVALS,
  randomToken,
  sameSecret,
  type SensorRecord,
} from "../store/mod.ts";
import type { Context, ServerOptions } from "./context.ts";
import { credentialFields } from "./credentials.ts";
import { checkMintRequest, valid } from "./validate.ts";

/**
 * Throws 401 unless the request carries `Authorization: Bearer <ADMIN_TOKEN>`, and 429 without
 * looking while `client` waits out its wrong ones (a missing header is no guess).
 */
export function requireAdmin(
  request: Request,
  options: Context,
  now: number,
  client: string,
): void {
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

/** POST /api/install-tokens: a one-time install token and the command that uses it. */
export async function mintInstallToken(
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

/** GET /api/sensors: the fleet, oldest enrollment first. */
export async function listSensors(request: Request, options: Context, now: number, client: string) {
  requireAdmin(request, options, now, client);
  const sensors = await options.store.sensors();
  sensors.sort((a, b) => a.enrolledAt - b.enrolledAt || a.id.localeCompare(b.id));
  return ok({ sensors: sensors.map((sensor) => describeSensor(sensor, options, now)) });
}

/** GET /api/sensors/{id}: one sensor with its latest interfaces. */
export async function showSensor(
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

/** POST /api/sensors/{id}/revoke: its token stops working at once. */
export async function revokeSensor(
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
export function describeSensor(sensor: SensorRecord, options: ServerOptions, now: number) {
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
    ...credentialFields(sensor, options, now),
  };
}
