// reference-backend/api/rotation.ts: a sensor token's rotation (docs/protocol.md, POST
// /api/sensors/token; docs/api.md, the same). The sensor asks with its current token and gets
// a new one; the old one stays valid until the first request made with the new one, and a repeated
// request before that gets the same new token, kept sealed under the old one as the enrollment's
// replay is under the install token, so a lost reply costs nothing and makes no chain. Like the
// enrollment's Idempotency-Key, the host binding ties the repeat to the host first given the token:
// another host presenting the old token (a copy of the env file) is refused. The admin asks one
// sensor, or the fleet, to rotate at its next beat. Every change goes through the store's check on
// the record read (store/beats.ts): two requests at once issue one token. An admin's request, a
// token issued and a rotation completed are audit events (audit.ts); a token issued again is not.
import { log } from "../../lib/log.ts";
import { fingerprint } from "../../lib/secrets.ts";
import { bearerToken, HttpError, ok, readJson } from "../http/mod.ts";
import {
  digest,
  NO_SIGHTINGS,
  noteSightings,
  randomToken,
  seal,
  type SensorRecord,
  type Store,
  unseal,
} from "../store/mod.ts";
import { describeSensor, requireAdmin, sensorName } from "./admin.ts";
import { audit, auditBySensor } from "./audit.ts";
import type { Context } from "./context.ts";
import { hostBinding } from "./credentials.ts";
import { checkRotationRequest, valid } from "./validate.ts";

// The fleet's rotation requests go this many at a time: they share the store's commits.
const FLEET_AT_ONCE = 100;

/** A new token (issued now, or the pending one again), or why it was refused (for the log). */
export type Rotation =
  | {
    readonly kind: "issued";
    readonly sensorId: string;
    readonly sensorToken: string;
    readonly again: boolean;
  }
  | { readonly kind: "refused"; readonly sensorId: string; readonly why: string };

/**
 * Rotates the token `token` (its digest `tokenDigest`) at `now`, for a request that carried the
 * host binding `binding` (null: none); null when the token opens no sensor.
 */
export function rotate(
  store: Store,
  token: string,
  tokenDigest: string,
  binding: string | null,
  now: number,
): Promise<Rotation | null> {
  return store.changeByToken(tokenDigest, now, async (sensor) => {
    // A host already seen last needs no write; another is noted (a copy shows as a duplicate).
    const known = binding === null || sensor.bindings?.seen[0]?.binding === binding;
    const sightings = known ? NO_SIGHTINGS : [{ binding, hostname: null, sensorIp: null }];
    const seen = noteSightings(sensor, sightings, now);
    const changed = seen === sensor ? undefined : seen;
    const pending = sensor.pendingToken;
    if (pending != null) {
      // Only a request from the host the token was issued to gets it again.
      if (pending.binding !== null && pending.binding !== binding) {
        const why = "a new token was already issued to a host with another Sensor-Host-Binding";
        return { sensor: changed, result: { kind: "refused", sensorId: sensor.id, why } };
      }
      // Sealed under the token in use, which is `token`: a request made with the new one has
      // completed the rotation before it gets here (store/credentials.ts, settle).
      const sensorToken = await unseal(pending.sealed, token, sensor.id, "rotation");
      return { sensor: changed, result: issued(sensor, sensorToken, true) };
    }
    const sensorToken = randomToken();
    const sealed = await seal(sensorToken, token, sensor.id, "rotation");
    const next: SensorRecord = {
      ...seen,
      pendingToken: { digest: digest(sensorToken), issuedAt: now, binding, sealed },
    };
    return { sensor: next, result: issued(sensor, sensorToken, false) };
  });
}

function issued(sensor: SensorRecord, sensorToken: string, again: boolean): Rotation {
  return { kind: "issued", sensorId: sensor.id, sensorToken, again };
}

/** True when a request made with the token of `tokenDigest` completes the rotation of `before`. */
export function completes(before: SensorRecord, tokenDigest: string): boolean {
  return before.pendingToken?.digest === tokenDigest;
}

/**
 * Logs and audits the completion of a rotation by a request made at `now` from `client` with the
 * token of `tokenDigest` (the first made with it); `before` is the sensor as the request found it.
 */
export async function rotationCompleted(
  options: Context,
  before: SensorRecord,
  tokenDigest: string,
  now: number,
  client: string,
): Promise<void> {
  const token = tokenDigest.slice(0, 12); // its fingerprint: the first digits of its SHA-256
  log.info("sensor token rotation completed: the new token is in use, the old one refused", {
    sensorId: before.id,
    token,
  });
  const previous = before.tokenDigest.slice(0, 12);
  await auditBySensor(
    options,
    client,
    now,
    "sensor.rotation.complete",
    before.id,
    `${sensorName(before)}: token sha256:${token} in use, sha256:${previous} refused from now on`,
  );
}

/** POST /api/sensors/token: the sensor's current token for a new one. */
export async function rotateToken(request: Request, options: Context, now: number, client: string) {
  // Who is asking comes first: a stranger's body is not read, and gets 401 whatever it holds.
  const token = bearerToken(request);
  if (token === undefined) throw sensorRejected();
  const tokenDigest = digest(token);
  const before = await options.store.sensorByToken(tokenDigest);
  if (before === null) throw sensorRejected();
  valid(checkRotationRequest(await readJson(request)));
  const rotation = await rotate(options.store, token, tokenDigest, hostBinding(request), now);
  // Null: revoked, or replaced by a rotation completed meanwhile.
  if (rotation === null) throw sensorRejected();
  if (completes(before, tokenDigest)) {
    await rotationCompleted(options, before, tokenDigest, now, client);
  }
  if (rotation.kind === "refused") {
    throw new HttpError(
      401,
      "this sensor token now belongs to another host (a copy of its env file?): enroll this host " +
        "with a new install token",
      { "WWW-Authenticate": 'Bearer realm="ravenxcope-sensor"' },
      { why: rotation.why, sensorId: rotation.sensorId },
    );
  }
  const issuedToken = fingerprint(rotation.sensorToken);
  const previous = fingerprint(token);
  log.info(
    rotation.again ? "sensor token issued again" : "sensor token rotated: new token issued",
    { sensorId: rotation.sensorId, token: issuedToken, previous },
  );
  if (!rotation.again) {
    await auditBySensor(
      options,
      client,
      now,
      "sensor.rotation.issue",
      rotation.sensorId,
      `${sensorName(before)}: new token sha256:${issuedToken} for sha256:${previous}`,
    );
  }
  return ok({ sensorToken: rotation.sensorToken });
}

/** POST /api/sensors/{id}/rotate (admin): the sensor rotates its token at its next beat. */
export async function rotateSensor(
  request: Request,
  options: Context,
  now: number,
  client: string,
  id: string,
) {
  requireAdmin(request, options, now, client);
  const sensor = await options.store.requestRotation(id, now);
  if (sensor === null) throw new HttpError(404, "no such sensor");
  if (sensor.revokedAt !== null) {
    throw new HttpError(409, "the sensor is revoked: it has no token to rotate");
  }
  log.info("sensor token rotation requested", { sensorId: id });
  // Asking again changes nothing, and is no event.
  if (sensor.rotationRequestedAt === now) {
    await audit(
      options,
      request,
      client,
      now,
      "sensor.rotation.request",
      `sensor ${id}`,
      sensorName(sensor),
    );
  }
  return ok(describeSensor(sensor, options, now));
}

/** POST /api/sensors/rotate (admin): every sensor not revoked rotates at its next beat. */
export async function rotateFleet(request: Request, options: Context, now: number, client: string) {
  requireAdmin(request, options, now, client);
  valid(checkRotationRequest(await readJson(request)));
  const sensors = [...options.store.fleet()].filter((sensor) => sensor.revokedAt === null);
  let requested = 0;
  for (let start = 0; start < sensors.length; start += FLEET_AT_ONCE) {
    const done = await Promise.all(
      sensors.slice(start, start + FLEET_AT_ONCE).map((sensor) =>
        options.store.requestRotation(sensor.id, now)
      ),
    );
    requested += done.filter((sensor) => sensor !== null && sensor.revokedAt === null).length;
  }
  log.info("sensor token rotation requested for the fleet", { sensors: requested });
  await audit(
    options,
    request,
    client,
    now,
    "fleet.rotation.request",
    "every sensor not revoked",
    `${requested} ${requested === 1 ? "sensor" : "sensors"}`,
  );
  return ok({ requested });
}

// As the heartbeat's: one answer for an unknown, revoked or replaced token.
function sensorRejected(): HttpError {
  return new HttpError(401, "sensor token unknown or revoked", {
    "WWW-Authenticate": 'Bearer realm="ravenxcope-sensor"',
  });
}
