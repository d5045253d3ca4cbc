// reference-backend/api/sensors.ts: the two routes a sensor calls most (docs/protocol.md):
// enrollment, which trades an install token for a sensor token (enrollment.ts), and the heartbeat,
// whose reply asks for a new token when one is due (the third route, rotation.ts). A sensor's beats
// are written one at a time, the ones arriving meanwhile merged into the next write
// (store/coalesce.ts), the host bindings they carried noted (store/bindings.ts); failed
// enrollments count against the real client's address.
import { isLogged, log } from "../../lib/log.ts";
import { fingerprint } from "../../lib/secrets.ts";
import { bearerToken, HttpError, ok, readJson } from "../http/mod.ts";
import {
  asksRotation,
  Coalescer,
  digest,
  mergeSightings,
  NO_SIGHTINGS,
  noteSightings,
  type SensorRecord,
  type Store,
} from "../store/mod.ts";
import type { Beat, Context } from "./context.ts";
import { hostBinding, tokenMaxAgeMs } from "./credentials.ts";
import { escapeForDisplay } from "./display.ts";
import { enroll } from "./enrollment.ts";
import { completes, rotationCompleted } from "./rotation.ts";
import { checkEnrollment, checkHeartbeat, checkIdempotencyKey, valid } from "./validate.ts";

// A sensor beats once per interval; this many of its beats waiting at once is a storm (a leaked
// token, a bug). They get 429 at once instead of holding connections while they wait.
const MAX_WAITING_BEATS = 64;

/** The heartbeats' writer: one write at a time per sensor, the beats waiting for it merged. */
export function heartbeatWriter(store: Store): Coalescer<Beat, SensorRecord | null> {
  return new Coalescer<Beat, SensorRecord | null>(
    (earlier, later) => ({
      ...later,
      count: earlier.count + later.count,
      sightings: mergeSightings(earlier.sightings, later.sightings),
    }),
    (tokenDigest, beat) =>
      store.recordHeartbeat(tokenDigest, beat.now, (sensor) => applyBeat(sensor, beat)),
    MAX_WAITING_BEATS,
  );
}

/** POST /api/sensors/enroll: an install token and the host's payload for a sensor token. */
export async function enrollSensor(
  request: Request,
  options: Context,
  now: number,
  client: string,
) {
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

/** POST /api/sensors/heartbeat: the sensor token, and the host as it is now. */
export async function heartbeat(
  request: Request,
  options: Context,
  now: number,
  client: string,
) {
  // Who is asking comes first: a stranger's body is not read, and gets 401 whatever it holds.
  const token = bearerToken(request);
  if (token === undefined) throw sensorRejected();
  const tokenDigest = digest(token);
  const before = await options.store.sensorByToken(tokenDigest);
  if (before === null) throw sensorRejected();
  const body = valid(checkHeartbeat(await readJson(request)));
  const binding = hostBinding(request);
  const sightings = binding === null
    ? NO_SIGHTINGS
    : [{ binding, hostname: body.hostname, sensorIp: body.sensorIp }];
  // One write at a time per sensor; beats arriving meanwhile are merged into the next write.
  const sensor = await options.beats.submit(tokenDigest, { body, now, count: 1, sightings });
  if (sensor === null) throw sensorRejected();
  if (completes(before, tokenDigest)) {
    await rotationCompleted(options, before, tokenDigest, now, client);
  }
  if (isLogged("debug")) {
    log.debug("heartbeat", {
      sensorId: sensor.id,
      beats: sensor.heartbeats,
      hostname: escapeForDisplay(sensor.hostname),
    });
  }
  const interval = options.heartbeatIntervalSeconds;
  return ok(
    asksRotation(sensor, tokenDigest, now, tokenMaxAgeMs(options))
      ? { heartbeatIntervalSeconds: interval, rotateSensorToken: true }
      : { heartbeatIntervalSeconds: interval },
  );
}

// Made only when needed: an Error captures a stack trace, a cost no beat that passes should pay.
function sensorRejected(): HttpError {
  return new HttpError(401, "sensor token unknown or revoked", {
    "WWW-Authenticate": 'Bearer realm="ravenxcope-sensor"',
  });
}

/** The sensor after `beat`: the latest body's facts, the beats counted, the hosts noted. */
function applyBeat(sensor: SensorRecord, beat: Beat) {
  const { body } = beat;
  return {
    sensor: {
      ...noteSightings(sensor, beat.sightings, beat.now),
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
