// reference-backend/api/admin.ts: the admin API's routes for minting install tokens and for one
// sensor (docs/api.md): showing and revoking it. The fleet's listing and removal are in fleet.ts,
// the install tokens' listing in tokens.ts, the audit trail in audit.ts. Each needs
// `Authorization: Bearer <ADMIN_TOKEN>` (guard.ts), and each change is an audit event.
import { log } from "../../lib/log.ts";
import { fingerprint } from "../../lib/secrets.ts";
import { HttpError, ok, readJson } from "../http/mod.ts";
import { installCommand } from "../install/mod.ts";
import {
  digest,
  ONLINE_INTERVALS,
  randomToken,
  type SensorRecord,
  sensorState,
} from "../store/mod.ts";
import { audit } from "./audit.ts";
import type { Context, ServerOptions } from "./context.ts";
import { credentialFields } from "./credentials.ts";
import { requireAdmin } from "./guard.ts";
import { checkMintRequest, valid } from "./validate.ts";

export { requireAdmin };

/** POST /api/install-tokens: a one-time install token and the command that uses it. */
export async function mintInstallToken(
  request: Request,
  options: Context,
  now: number,
  client: string,
) {
  requireAdmin(request, options, now, client);
  const { ttlSeconds, note, label } = valid(checkMintRequest(await readJson(request)));
  const installToken = randomToken();
  const expiresAt = now + ttlSeconds * 1000;
  await options.store.addInstallToken(digest(installToken), {
    createdAt: now,
    expiresAt,
    note: note ?? null,
    label: label ?? null,
    consumed: null,
  });
  const token = fingerprint(installToken);
  log.info("install token minted", { token, ttlSeconds });
  await audit(
    options,
    request,
    client,
    now,
    "install-token.mint",
    `install token sha256:${token}`,
    [
      label === undefined ? undefined : `label ${label}`,
      `expires ${new Date(expiresAt).toISOString()}`,
    ].filter((part) => part !== undefined).join(", "),
  );
  return ok({
    installToken,
    expiresAt: new Date(expiresAt).toISOString(),
    installCommand: installCommand(
      options.publicUrl,
      options.digests(),
      options.agentBinary,
      options.insecureHttp,
      label,
    ),
    agentBinaryUrl: options.agentBinary?.url ?? null,
  }, 201);
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
  // Revoking again changes nothing, and is no event.
  if (sensor.revokedAt === now) {
    await audit(options, request, client, now, "sensor.revoke", `sensor ${id}`, sensorName(sensor));
  }
  return ok(describeSensor(sensor, options, now));
}

/**
 * How the audit trail names a sensor: its label and hostname as the sensor sent them (whoever
 * shows the trail escapes them, as the console does).
 */
export function sensorName(sensor: SensorRecord): string {
  return sensor.label === null ? sensor.hostname : `${sensor.label} on ${sensor.hostname}`;
}

/** A sensor as the admin API shows it: no digests, times as ISO 8601, its state. */
export function describeSensor(sensor: SensorRecord, options: ServerOptions, now: number) {
  const iso = (ms: number | null) => ms === null ? null : new Date(ms).toISOString();
  const interval = options.heartbeatIntervalSeconds;
  const online = sensor.revokedAt === null &&
    now - sensor.lastSeenAt <= ONLINE_INTERVALS * interval * 1000;
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
    state: sensorState(sensor.lastSeenAt, sensor.revokedAt, now, interval),
    heartbeats: sensor.heartbeats,
    uptimeSeconds: sensor.uptimeSeconds,
    interfaceCount: sensor.interfaceCount,
    revokedAt: iso(sensor.revokedAt),
    ...credentialFields(sensor, options, now),
  };
}
