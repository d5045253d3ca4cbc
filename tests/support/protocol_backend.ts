// tests/support/protocol_backend.ts: a backend written from docs/protocol.md alone, not from
// reference-backend/: enrollment with one-time install tokens (a retry with the same
// Idempotency-Key answered again), heartbeats, and the rotation of POST /api/sensors/token (the old
// token valid until the new one is used; the same new token answered again before that; 401 for
// the old one after). It speaks HTTP/1.1 by hand on a raw socket (support/rawserver.ts), so that it
// can also misbehave on cue: close the connection after issuing a token, answer any status or body,
// take its time. Every request is recorded with the token it carried (by role, never printed).
import { newToken } from "./agent.ts";
import { head, type RawConnection, startRawServer } from "./rawserver.ts";

/** The endpoints of docs/protocol.md. */
export type Endpoint = "enroll" | "heartbeat" | "token";

/** How the next request to an endpoint is answered instead of as the protocol says. */
export type Cue =
  /** Does what the request asks (a token is issued), then closes the connection: a lost reply. */
  | { readonly kind: "drop" }
  /** Answers this status and body, doing nothing of what the request asks. */
  | { readonly kind: "answer"; readonly status: number; readonly body?: string }
  /** Waits, then answers as the protocol says. */
  | { readonly kind: "delay"; readonly ms: number };

/** One request as this backend saw and answered it. */
export interface Exchange {
  readonly endpoint: Endpoint | "other";
  readonly at: number;
  /** Which of the sensor's tokens the Bearer was: the current one, the pending new one, or neither. */
  readonly token?: "current" | "pending" | "unknown";
  /** The token itself: compare, never print. */
  readonly bearer?: string;
  /** The Sensor-Host-Binding header, or null when it was absent. */
  readonly binding: string | null;
  readonly contentType: string | null;
  readonly body: string;
  /** The status answered; 0 when the connection was closed instead. */
  readonly status: number;
  /** What the request did: "issued" a new pending token, "reissued" the same, "promoted" it... */
  readonly effect?: "enrolled" | "replayed" | "accepted" | "issued" | "reissued" | "promoted";
}

/** One enrolled sensor, as the backend keeps it. */
export interface SensorRecord {
  readonly id: string;
  /** The token every request may use. */
  token: string;
  /** The new token issued by a rotation, not used yet; the old one stays valid until it is. */
  pending?: string;
  /** Ask for a rotation in every beat reply until the new token is used. */
  rotationWanted: boolean;
  /** Ask for a rotation in every beat reply, rotation after rotation (a test's policy). */
  askEveryBeat: boolean;
  /** Every binding seen with this sensor's tokens. */
  readonly bindings: Set<string>;
  /** How many rotations have been completed (a new token used). */
  rotations: number;
  /** How many distinct new tokens were issued. */
  issued: number;
}

/** The running backend. */
export interface ProtocolBackend {
  readonly url: string;
  readonly exchanges: Exchange[];
  readonly sensors: SensorRecord[];
  /** Heartbeat interval the replies name. */
  intervalSeconds: number;
  /** A one-time install token this backend accepts. */
  mintInstallToken(): string;
  /** A sensor enrolled earlier (a file written before this test), with a fresh token. */
  addSensor(): SensorRecord;
  /** Answers the next request to `endpoint` as `cue` says. */
  cue(endpoint: Endpoint, cue: Cue): void;
  /** Called with each request as it arrives, before it is answered. */
  onRequest?: (endpoint: Endpoint | "other", exchange: { bearer?: string }) => void;
  /** The exchanges of one endpoint. */
  of(endpoint: Endpoint): Exchange[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const PATHS: Record<string, Endpoint | undefined> = {
  "/api/sensors/enroll": "enroll",
  "/api/sensors/heartbeat": "heartbeat",
  "/api/sensors/token": "token",
};
const BINDING = /^[0-9a-f]{64}$/;
const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  400: "Bad Request",
  401: "Unauthorized",
};

/** What is answered to a request, and what the request did. */
interface Answer {
  readonly status: number;
  readonly body: string;
  readonly effect?: Exchange["effect"];
}

/** A parsed request: method, path, headers (lower-case names) and body. */
interface ParsedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Map<string, string>;
  readonly body: string;
}

function parse(text: string): ParsedRequest | undefined {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [requestLine, ...fields] = text.slice(0, end).split("\r\n");
  const [method, target] = requestLine.split(" ");
  const headers = new Map<string, string>();
  for (const field of fields) {
    const colon = field.indexOf(":");
    headers.set(field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1).trim());
  }
  return { method, path: new URL(target, "http://x").pathname, headers, body: text.slice(end + 4) };
}

/** Starts the backend on a free port of 127.0.0.1. */
export function startProtocolBackend(options: { intervalSeconds?: number } = {}): ProtocolBackend {
  const exchanges: Exchange[] = [];
  const sensors: SensorRecord[] = [];
  const installTokens = new Map<string, { key?: string; reply?: string } | undefined>();
  const cues = new Map<Endpoint, Cue[]>();
  const newSensor = (): SensorRecord => {
    const sensor: SensorRecord = {
      id: crypto.randomUUID(),
      token: newToken("sensor"),
      rotationWanted: false,
      askEveryBeat: false,
      bindings: new Set(),
      rotations: 0,
      issued: 0,
    };
    sensors.push(sensor);
    return sensor;
  };
  const byToken = (bearer: string | undefined) => {
    for (const sensor of sensors) {
      if (bearer === sensor.token) return { sensor, role: "current" as const };
      if (bearer === sensor.pending) return { sensor, role: "pending" as const };
    }
    return undefined;
  };

  /** The protocol's answer to a request: status, body, and what it did. */
  const handle = (endpoint: Endpoint | "other", request: ParsedRequest): Answer => {
    const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });
    const refuse = (status: number, error: string) => json(status, { success: false, error });
    if (endpoint === "other" || request.method !== "POST") return refuse(404, "not found");
    if (request.headers.get("content-type") !== "application/json") {
      return refuse(415, "Content-Type must be application/json");
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.body);
    } catch {
      return refuse(400, "the body is not JSON");
    }
    if (endpoint === "enroll") {
      const token = String(body.installToken);
      const key = request.headers.get("idempotency-key");
      if (!installTokens.has(token)) return refuse(401, "unknown install token");
      const used = installTokens.get(token);
      if (used !== undefined) {
        return used.key !== undefined && used.key === key
          ? { status: 201, body: used.reply!, effect: "replayed" }
          : refuse(401, "install token already used");
      }
      const sensor = newSensor();
      const reply = json(201, {
        success: true,
        data: {
          sensorId: sensor.id,
          sensorToken: sensor.token,
          heartbeatIntervalSeconds: backend.intervalSeconds,
        },
      });
      installTokens.set(token, { key: key ?? undefined, reply: reply.body });
      return { ...reply, effect: "enrolled" };
    }
    const bearer = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
    const found = byToken(bearer);
    if (found === undefined) return refuse(401, "unknown sensor token");
    const binding = request.headers.get("sensor-host-binding");
    if (binding !== undefined && !BINDING.test(binding)) {
      return refuse(400, "Sensor-Host-Binding is not 64 lowercase hex digits");
    }
    const { sensor, role } = found;
    if (binding !== undefined) sensor.bindings.add(binding);
    // The first request made with the new token retires the old one.
    let promoted = false;
    if (role === "pending") {
      sensor.token = sensor.pending!;
      sensor.pending = undefined;
      sensor.rotationWanted = false;
      sensor.rotations++;
      promoted = true;
    }
    if (endpoint === "heartbeat") {
      const fields = ["agentVersion", "sensorLabel", "hostname", "sensorIp", "uptimeSeconds"];
      if (!fields.every((field) => field in body) || !Array.isArray(body.interfaces)) {
        return refuse(400, "not a heartbeat body");
      }
      const data: Record<string, unknown> = { heartbeatIntervalSeconds: backend.intervalSeconds };
      if (sensor.rotationWanted || sensor.askEveryBeat) data.rotateSensorToken = true;
      return {
        ...json(200, { success: true, data }),
        effect: promoted ? "promoted" : "accepted",
      };
    }
    if (Object.keys(body).length !== 0) return refuse(400, "the body must be {}");
    const reissued = sensor.pending !== undefined;
    if (!reissued) {
      sensor.pending = newToken("sensor");
      sensor.issued++;
    }
    return {
      ...json(200, { success: true, data: { sensorToken: sensor.pending } }),
      effect: reissued ? "reissued" : "issued",
    };
  };

  const serve = async (conn: RawConnection) => {
    const request = parse(await conn.readRequest());
    if (request === undefined) return;
    const endpoint: Endpoint | "other" = PATHS[request.path] ?? "other";
    const bearer = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
    const role = bearer === undefined ? undefined : byToken(bearer)?.role ?? "unknown" as const;
    backend.onRequest?.(endpoint, { bearer });
    const cue = endpoint === "other" ? undefined : cues.get(endpoint)?.shift();
    if (cue?.kind === "delay") await conn.sleep(cue.ms);
    const answer: Answer = cue?.kind === "answer"
      ? { status: cue.status, body: cue.body ?? "" }
      : handle(endpoint, request);
    exchanges.push({
      endpoint,
      at: performance.now(),
      token: role,
      bearer,
      binding: request.headers.get("sensor-host-binding") ?? null,
      contentType: request.headers.get("content-type") ?? null,
      body: request.body,
      status: cue?.kind === "drop" ? 0 : answer.status,
      effect: answer.effect,
    });
    if (cue?.kind === "drop") return; // the server hangs up: the reply is lost
    const reason = REASONS[answer.status] ?? "Status";
    await conn.write(
      head(`${answer.status} ${reason}`, {
        "Content-Type": "application/json",
        "Content-Length": new TextEncoder().encode(answer.body).length,
      }) + answer.body,
    );
  };

  const server = startRawServer(serve);
  const backend: ProtocolBackend = {
    url: server.url(),
    exchanges,
    sensors,
    intervalSeconds: options.intervalSeconds ?? 1,
    mintInstallToken() {
      const token = newToken("install");
      installTokens.set(token, undefined);
      return token;
    },
    addSensor: newSensor,
    cue(endpoint, cue) {
      cues.set(endpoint, [...cues.get(endpoint) ?? [], cue]);
    },
    of: (endpoint) => exchanges.filter((exchange) => exchange.endpoint === endpoint),
    close: () => server.close(),
    [Symbol.asyncDispose]: () => server.close(),
  };
  return backend;
}

/**
 * Resolves once `ready()` holds (polled), or rejects after `timeoutMs`, or as soon as `exited`
 * (an agent's end) settles first: a test then fails with the agent's output, not a timeout.
 */
export async function until(
  ready: () => boolean,
  what: string,
  exited?: Promise<{ code: number; stderr: string }>,
  timeoutMs = 15_000,
): Promise<void> {
  let ended: string | undefined;
  exited?.then((run) => ended = `the agent exited ${run.code}: ${run.stderr}`, () => {});
  const deadline = performance.now() + timeoutMs;
  while (!ready()) {
    if (ended !== undefined) throw new Error(`${ended}\n(while waiting for ${what})`);
    if (performance.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 10));
  }
}
