// lib/backend/heartbeat.ts: the agent's life after enrollment (docs/protocol.md, POST
// /api/sensors/heartbeat): one beat right away, then one per interval, backing off on failure,
// rotating the token when a reply asks (rotation.ts), stopping only for a rejected token or a
// signal. Judging a reply is pure; the loop takes its clock, random source and wait function as
// parameters so tests and benchmarks can drive thousands of real beats without waiting.
import { loopDeadlines } from "../deadline.ts";
import { validInterval } from "./enrollment.ts";
import { AgentError, ExitCode } from "../errors.ts";
import { AGENT_VERSION } from "../version.ts";
import { type Backend, HEARTBEAT_PATH, request, TransportError } from "./http.ts";
import type { HostSnapshot, NetworkInterface } from "../host/mod.ts";
import { log, warnOnce } from "../log.ts";
import { SensorCredential, TokenRotation, type TokenStore } from "./rotation.ts";
import { type BeatOutcome, initialSchedule, nextStep, parseRetryAfter } from "./schedule.ts";

/** The heartbeat body of docs/protocol.md, in its order. */
export interface HeartbeatBody {
  agentVersion: string;
  sensorLabel: string | null;
  hostname: string;
  sensorIp: string;
  uptimeSeconds: number;
  interfaces: NetworkInterface[];
}

/**
 * A beat's result: a scheduling outcome (an accepted beat also says whether the backend asks for a
 * new sensor token), or the sensor token rejected (the end of the loop).
 */
export type BeatResult =
  | Exclude<BeatOutcome, { kind: "ok" }>
  | { readonly kind: "ok"; readonly intervalSeconds?: number; readonly rotateSensorToken: boolean }
  | { readonly kind: "rejected"; readonly status: number };

/** The body for one beat from a fresh look at the host. */
export function heartbeatBody(
  sensorLabel: string | undefined,
  snapshot: HostSnapshot,
  uptimeSeconds: number,
): HeartbeatBody {
  return {
    agentVersion: AGENT_VERSION,
    sensorLabel: sensorLabel ?? null,
    hostname: snapshot.facts.hostname,
    sensorIp: snapshot.sensorIp ?? "",
    uptimeSeconds: Math.floor(uptimeSeconds),
    interfaces: snapshot.interfaces,
  };
}

/** What a heartbeat reply means for the agent (docs/protocol.md). */
export function judgeBeatReply(
  status: number,
  headers: Headers,
  text: string | undefined,
  nowMs: number,
): BeatResult {
  if (status === 401 || status === 403) return { kind: "rejected", status };
  if (status === 429 || status === 503) {
    const seconds = parseRetryAfter(headers.get("retry-after"), nowMs);
    return seconds === undefined
      ? { kind: "failed" }
      : { kind: "throttled", retryAfterSeconds: seconds };
  }
  if (status < 200 || status >= 300 || text === undefined) return { kind: "failed" };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: "failed" };
  }
  const record = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  if (record.success !== true) return { kind: "failed" };
  const data =
    (typeof record.data === "object" && record.data !== null ? record.data : {}) as Record<
      string,
      unknown
    >;
  return {
    kind: "ok",
    intervalSeconds: validInterval(data.heartbeatIntervalSeconds),
    rotateSensorToken: data.rotateSensorToken === true,
  };
}

/** Everything the loop needs; the clock, random source and wait are swappable for tests. */
export interface HeartbeatOptions {
  readonly backend: Backend;
  readonly sensorToken: string;
  /** This host's binding, sent with every request made with the token; none without a machine id. */
  readonly hostBinding?: string;
  /** Where a rotated token is saved; without one, a reply asking for rotation is not acted on. */
  readonly tokenStore?: TokenStore;
  /** Called once, after the first accepted beat, with the token it was made with. Never throws. */
  readonly onFirstAccepted?: (sensorToken: string) => Promise<void>;
  readonly sensorLabel?: string;
  readonly intervalSeconds: number;
  readonly snapshot: (signal: AbortSignal) => Promise<HostSnapshot>;
  readonly signal: AbortSignal;
  /** Waits `ms` or until `signal` aborts, whichever is first; never rejects. */
  readonly wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly uptimeSeconds?: () => number;
  /** Stops after this many beats (benchmarks); unlimited by default. */
  readonly maxBeats?: number;
}

/** Waits `ms` milliseconds, or less if `signal` aborts first. */
export function abortableWait(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((done) => {
    const stopped = () => {
      clearTimeout(timer);
      done();
    };
    // A timer that fired is gone: only a stop has one to clear.
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stopped);
      done();
    }, ms);
    signal.addEventListener("abort", stopped, { once: true });
  });
}

/**
 * Beats until a signal stops the agent (returns 0) or the backend rejects the sensor token (throws
 * the 77 of docs/configuration.md, Exit codes). Transient failures never end the loop: they are
 * retried with backoff, and logged once when the backend is lost and once when it is back.
 */
export async function runHeartbeats(options: HeartbeatOptions): Promise<ExitCode> {
  const wait = options.wait ?? abortableWait;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const uptime = options.uptimeSeconds ?? (() => performance.now() / 1000);
  let schedule = initialSchedule(options.intervalSeconds);
  // The headers are the same for every beat until a rotation: made once, so a beat allocates
  // little beyond its body.
  const credential = new SensorCredential(options.sensorToken, options.hostBinding);
  const rotation = options.tokenStore === undefined
    ? undefined
    : new TokenRotation(options.backend, credential, options.tokenStore);
  let accepted = false;
  using limits = loopDeadlines(options.backend.timeoutMs, options.signal);
  for (let beat = 1; !options.signal.aborted; beat++) {
    const snapshot = await options.snapshot(options.signal);
    if (snapshot.degraded) warnOnce(snapshot.degraded);
    const body = heartbeatBody(options.sensorLabel, snapshot, uptime());
    let result: BeatResult;
    let reason: string;
    try {
      const reply = await request(options.backend, "POST", HEARTBEAT_PATH, {
        body,
        headers: credential.headers,
        signal: options.signal,
        limit: limits.next, // one timer and one stop listener for the loop's life
      });
      result = judgeBeatReply(reply.status, reply.headers, reply.text, now());
      reason = `HTTP ${reply.status}`;
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      if (error.kind === "aborted") break;
      result = { kind: "failed" };
      reason = error.message;
    }
    if (result.kind === "rejected") {
      throw new AgentError(
        ExitCode.noPermission,
        `the backend rejected the sensor token (HTTP ${result.status}); heartbeats stopped`,
        "Obtain a new install token, then run `enroll --force` with INSTALL_TOKEN set",
      );
    }
    const step = nextStep(schedule, result, random);
    logTransition(schedule, step.state, result, reason, step.delayMs);
    schedule = step.state;
    const afterBeat = now();
    if (result.kind === "ok" && !accepted) {
      accepted = true;
      await options.onFirstAccepted?.(credential.sensorToken);
    }
    // A rotation goes between two beats and takes its time out of the wait: the schedule stays.
    if (result.kind === "ok" && result.rotateSensorToken) await rotation?.rotate(options.signal);
    if (options.maxBeats !== undefined && beat >= options.maxBeats) break;
    await wait(Math.max(0, step.delayMs - (now() - afterBeat)), options.signal);
  }
  if (options.signal.aborted) log.info("stopped by a signal");
  return ExitCode.ok;
}

function logTransition(
  before: { intervalSeconds: number; failures: number },
  after: { intervalSeconds: number; failures: number },
  result: BeatOutcome,
  reason: string,
  delayMs: number,
): void {
  const next = { nextInSeconds: Math.round(delayMs / 100) / 10 };
  if (result.kind === "ok") {
    if (before.failures > 0) log.info(`backend back after ${before.failures} failed heartbeats`);
    if (after.intervalSeconds !== before.intervalSeconds) {
      log.info("heartbeat interval changed", {
        from: before.intervalSeconds,
        to: after.intervalSeconds,
      });
    }
    log.debug("heartbeat sent", next);
    return;
  }
  if (before.failures === 0) log.warn(`backend lost: ${reason}; retrying with backoff`, next);
  else log.debug(`heartbeat failed: ${reason}`, { failures: after.failures, ...next });
}
