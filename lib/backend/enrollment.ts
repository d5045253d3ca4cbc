// lib/backend/enrollment.ts: the enrollment exchange (docs/protocol.md, first endpoint): the payload, the
// idempotency key, and what a reply means. Building and judging are pure; `requestEnrollment` does
// the request, and asks again, with the same key, while the backend says when to (429/503 with
// Retry-After), for at most ENROLL_WAIT_BUDGET_MS in all.
import { SENSOR_TOKEN_PATTERN } from "../config/mod.ts";
import { deadline, lightTimer } from "../deadline.ts";
import { AgentError, ExitCode } from "../errors.ts";
import type { HostFacts, NetworkInterface } from "../host/mod.ts";
import { log } from "../log.ts";
import { hex, hmacSha256 } from "../sha256.ts";
import { AGENT_VERSION } from "../version.ts";
import { type Backend, type Reply, request, TransportError } from "./http.ts";
import { parseRetryAfter } from "./schedule.ts";

/**
 * The account Ansible escalates to on sensor hosts: the payload's `sudoUser`, the description's
 * hard-coded value. Here beside the payload, not with the host's facts: the agent reads nothing to
 * know it, and `status`, which loads this module, then loads nothing of host/.
 */
export const SUDO_USER = "sensoradmin";

/** The nine fields of the description's example, in its order and with its JSON types. */
export interface EnrollmentPayload {
  installToken: string;
  hostname: string;
  osInfo: string;
  architecture: string;
  agentVersion: string;
  sensorIp: string;
  sensorPort: number;
  sudoUser: string;
  interfaces: NetworkInterface[];
}

/** What a successful enrollment gives the agent. */
export interface Enrollment {
  readonly sensorToken: string;
  readonly heartbeatIntervalSeconds: number;
  readonly sensorId?: string;
  readonly backendUrl?: string;
  /** Set when the reply's interval was missing or invalid and 30 s is used instead. */
  readonly intervalWarning?: string;
}

/** The interval used when the backend gives none (docs/protocol.md). */
export const DEFAULT_INTERVAL_SECONDS = 30;
/** The longest interval the agent accepts: one beat a day. */
export const MAX_INTERVAL_SECONDS = 86_400;
export const ENROLL_PATH = "api/sensors/enroll";
/** How long enrollment waits in all for a backend that asks to be asked later (429/503). */
export const ENROLL_WAIT_BUDGET_MS = 10 * 60_000;
// A Retry-After of 0 (or a date already past) still waits this long: never a tight loop.
const MIN_ENROLL_WAIT_MS = 1_000;

/** The payload, field for field as the description's example. */
export function enrollmentPayload(
  installToken: string,
  facts: HostFacts,
  sensorIp: string | undefined,
  sensorPort: number,
  interfaces: NetworkInterface[],
): EnrollmentPayload {
  return {
    installToken,
    hostname: facts.hostname,
    osInfo: facts.osInfo,
    architecture: facts.architecture,
    agentVersion: AGENT_VERSION,
    sensorIp: sensorIp ?? "",
    sensorPort,
    sudoUser: SUDO_USER,
    interfaces,
  };
}

/**
 * Lowercase hex HMAC-SHA-256 of the machine id keyed by the install token: the same machine
 * retrying the same token sends the same key, and a machine holding a leaked token cannot compute
 * it.
 */
export function idempotencyKey(installToken: string, machineId: string): string {
  const encoder = new TextEncoder();
  return hex(hmacSha256(encoder.encode(installToken), encoder.encode(machineId)));
}

/**
 * An interval from a reply: an integer >= 1 (capped at a day), or undefined when it is missing or
 * not a whole positive number.
 */
export function validInterval(value: unknown): number | undefined {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) return undefined;
  return Math.min(value, MAX_INTERVAL_SECONDS);
}

/**
 * Judges an enrollment reply (docs/protocol.md; docs/configuration.md, Exit codes): the enrollment,
 * or the AgentError with the exit code and advice for what went wrong. Never quotes the body: it
 * may hold a token.
 */
export function judgeEnrollmentReply(
  status: number,
  text: string | undefined,
  url: string,
): Enrollment {
  const fail = (message: string, advice = "Check BACKEND_URL and the backend's logs") => {
    throw new AgentError(ExitCode.protocol, `enrollment at ${url} failed: ${message}`, advice);
  };
  if (status === 401 || status === 403) {
    throw new AgentError(
      ExitCode.noPermission,
      `the backend rejected the install token (HTTP ${status})`,
      "Obtain a new install token (the backend's console or POST /api/install-tokens) and set INSTALL_TOKEN",
    );
  }
  if (status >= 300 && status < 400) {
    fail(
      `the backend answered with a redirect (HTTP ${status}), which the agent never follows`,
      "Set BACKEND_URL to the backend's final address",
    );
  }
  if (status < 200 || status >= 300) fail(`HTTP ${status}`);
  if (text === undefined) fail("the reply is larger than 1 MiB");
  let body: unknown;
  try {
    body = JSON.parse(text!);
  } catch {
    return fail("the reply is not JSON");
  }
  const record = isRecord(body) ? body : {};
  if (record.success !== true) fail("the reply does not say success: true");
  const data = isRecord(record.data) ? record.data : {};
  const token = data.sensorToken;
  if (typeof token !== "string" || !SENSOR_TOKEN_PATTERN.test(token)) {
    // Stored unquoted in the env file, so anything outside the charset could inject a line.
    fail(
      "the sensor token in the reply is missing or malformed (8-4096 of A-Z a-z 0-9 . _ + / = -)",
    );
  }
  const interval = validInterval(data.heartbeatIntervalSeconds);
  return {
    sensorToken: token as string,
    heartbeatIntervalSeconds: interval ?? DEFAULT_INTERVAL_SECONDS,
    sensorId: typeof data.sensorId === "string" ? data.sensorId : undefined,
    backendUrl: typeof data.backendUrl === "string" ? data.backendUrl : undefined,
    intervalWarning: interval === undefined
      ? `the reply's heartbeatIntervalSeconds is missing or invalid; using ${DEFAULT_INTERVAL_SECONDS} s`
      : undefined,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Posts the payload and returns the enrollment, or throws an AgentError with the contract's exit
 * code: 69 unreachable, timed out, or still asked to wait after ENROLL_WAIT_BUDGET_MS; 76 a bad
 * reply; 77 the token rejected; 78 an untrusted certificate. A 429 or 503 with Retry-After is
 * waited out and asked again with the same Idempotency-Key, so a reply lost meanwhile is replayed,
 * never enrolled twice. A TransportError of kind "aborted" (a signal, also during a wait) passes
 * through for the caller: nothing more is sent.
 */
export async function requestEnrollment(
  backend: Backend,
  payload: EnrollmentPayload,
  machineId: string | undefined,
  signal?: AbortSignal,
): Promise<Enrollment> {
  const headers: Record<string, string> = {};
  if (machineId !== undefined) {
    headers["Idempotency-Key"] = idempotencyKey(payload.installToken, machineId);
  }
  let waitedMs = 0;
  for (;;) {
    const reply = await post(backend, payload, headers, signal);
    const waitMs = askedToWaitMs(reply);
    if (waitMs === undefined) {
      return judgeEnrollmentReply(reply.status, reply.text, backend.url.href);
    }
    if (waitedMs + waitMs > ENROLL_WAIT_BUDGET_MS) {
      throw new AgentError(
        ExitCode.unavailable,
        `the backend at ${backend.url.host} still asks to be asked later (HTTP ${reply.status}, ` +
          `Retry-After ${Math.round(waitMs / 1000)} s) after ${Math.round(waitedMs / 1000)} s ` +
          "of waiting",
        "Start the agent again later (the install token is not spent); if it lasts, check the backend's load and its proxy's limits",
      );
    }
    log.warn(
      `the backend is busy (HTTP ${reply.status}); asking again in ${Math.round(waitMs / 1000)} s`,
      { waitedSeconds: Math.round(waitedMs / 1000) },
    );
    await pause(waitMs, backend.url, signal);
    waitedMs += waitMs;
  }
}

/** How long a 429 or 503 with a usable Retry-After asks to wait; undefined for any other reply. */
function askedToWaitMs(reply: Reply): number | undefined {
  if (reply.status !== 429 && reply.status !== 503) return undefined;
  const seconds = parseRetryAfter(reply.headers.get("retry-after"), Date.now());
  return seconds === undefined ? undefined : Math.max(MIN_ENROLL_WAIT_MS, seconds * 1000);
}

/** Waits `ms`; a signal ends the wait at once, as a TransportError of kind "aborted". */
async function pause(ms: number, url: URL, signal?: AbortSignal): Promise<void> {
  // The clearable timer (not the light one): it is what keeps the process alive while it waits.
  using wait = deadline(ms, signal);
  // A stop that came before the wait began has aborted it already: no event will come.
  if (!wait.signal.aborted) {
    await new Promise((resolve) => wait.signal.addEventListener("abort", resolve, { once: true }));
  }
  if (!wait.timedOut()) {
    throw new TransportError("aborted", `enrollment at ${url} was cancelled while waiting`);
  }
}

/** One POST of the payload; transport failures become the contract's exit codes. */
async function post(
  backend: Backend,
  payload: EnrollmentPayload,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<Reply> {
  try {
    // One request per process as a rule: the light timer spares start-up the node layer
    // (lib/deadline.ts).
    return await request(backend, "POST", ENROLL_PATH, {
      body: payload,
      headers,
      signal,
      timer: lightTimer,
    });
  } catch (error) {
    if (!(error instanceof TransportError) || error.kind === "aborted") throw error;
    if (error.kind === "tls") {
      throw new AgentError(
        ExitCode.config,
        `the backend's TLS certificate is not trusted: ${error.message}`,
        backend.caFile === undefined
          ? "Set BACKEND_CA_FILE to the PEM bundle of the CA that signed it"
          : `Check that BACKEND_CA_FILE (${backend.caFile}) holds the CA that signed it and that the certificate names ${backend.url.hostname}`,
      );
    }
    throw new AgentError(
      ExitCode.unavailable,
      `enrollment failed: ${error.message}`,
      "Check BACKEND_URL, the network path and that the backend is running; then start the agent again",
    );
  }
}
