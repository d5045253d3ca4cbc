// lib/backend/rotation.ts: the sensor token in use, the headers every request made with it carries,
// and its rotation (docs/protocol.md, POST /api/sensors/token). When a heartbeat's reply asks, the
// agent asks for a new token, has it saved where the next start reads it, and only then uses it.
// Crash safety is the protocol's: the backend keeps the old token valid until the new one is used,
// and answers the same new token to a repeated request, so a reply lost or a save that never
// happened costs nothing. Judging a reply is pure; saving is the caller's (a TokenStore).
import { AgentError, describe, ExitCode } from "../errors.ts";
import { SENSOR_TOKEN_PATTERN } from "../config/mod.ts";
import { clearableTimer } from "../deadline.ts";
import { log } from "../log.ts";
import { fingerprint, registerSecret } from "../secrets.ts";
import { type Backend, request, TransportError } from "./http.ts";

/** The rotation's endpoint. */
export const TOKEN_PATH = "api/sensors/token";
/** The header that carries the host binding on every request made with a sensor token. */
export const HOST_BINDING_HEADER = "Sensor-Host-Binding";

/** What a reply to the rotation request means. */
export type RotationReply =
  | { readonly kind: "issued"; readonly sensorToken: string }
  | { readonly kind: "rejected"; readonly status: number }
  | { readonly kind: "failed"; readonly reason: string };

/**
 * Judges a reply to POST /api/sensors/token: 2xx, `success: true` and a token under the
 * enrollment's rules is a new token; 401/403 the current token rejected; anything else (a
 * redirect, 429, 5xx, a bad body, over 1 MiB) a transient failure. Never quotes the body.
 */
export function judgeRotationReply(status: number, text: string | undefined): RotationReply {
  if (status === 401 || status === 403) return { kind: "rejected", status };
  if (status < 200 || status >= 300) return { kind: "failed", reason: `HTTP ${status}` };
  if (text === undefined) return { kind: "failed", reason: "the reply is larger than 1 MiB" };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: "failed", reason: "the reply is not JSON" };
  }
  const record = isRecord(body) ? body : {};
  if (record.success !== true) {
    return { kind: "failed", reason: "the reply does not say success: true" };
  }
  const token = isRecord(record.data) ? record.data.sensorToken : undefined;
  if (typeof token !== "string" || !SENSOR_TOKEN_PATTERN.test(token)) {
    return {
      kind: "failed",
      reason:
        "the sensor token in the reply is missing or malformed (8-4096 of A-Z a-z 0-9 . _ + / = -)",
    };
  }
  return { kind: "issued", sensorToken: token };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The sensor token in use, and the headers of every request made with it. */
export class SensorCredential {
  #token: string;
  #headers: Record<string, string>;

  /** `hostBinding` is this host's (undefined on a host without a machine id: no header then). */
  constructor(sensorToken: string, readonly hostBinding?: string) {
    this.#token = sensorToken;
    this.#headers = this.#headersFor(sensorToken);
  }

  /** The token every request is made with. */
  get sensorToken(): string {
    return this.#token;
  }

  /** Authorization and Sensor-Host-Binding; the same object until the token changes. */
  get headers(): Readonly<Record<string, string>> {
    return this.#headers;
  }

  /** Makes every later request with `sensorToken`; the old one is never sent again. */
  use(sensorToken: string): void {
    this.#token = sensorToken;
    this.#headers = this.#headersFor(sensorToken);
  }

  #headersFor(sensorToken: string): Record<string, string> {
    const headers: Record<string, string> = { Authorization: `Bearer ${sensorToken}` };
    if (this.hostBinding !== undefined) headers[HOST_BINDING_HEADER] = this.hostBinding;
    return headers;
  }
}

/** Where a new sensor token is saved, so that the next start reads it. */
export interface TokenStore {
  /** Why no new token can be saved where the next start reads it; the agent then never asks. */
  readonly unsavable?: string;
  /** Saves `next` in place of `current`; rejects (saving nothing) with why it could not. */
  save(current: string, next: string, signal: AbortSignal): Promise<void>;
}

/** The rotations of one agent process: asks, saves, switches, and warns once per failing streak. */
export class TokenRotation {
  #failing = false;
  #warnedUnsavable = false;

  constructor(
    readonly backend: Backend,
    readonly credential: SensorCredential,
    readonly store: TokenStore,
  ) {}

  /**
   * One rotation, as a heartbeat's reply asked: POST /api/sensors/token with the current token,
   * then the new one saved, then used for every later request. Returns true when the token
   * changed. A failure to get or save the token keeps the current one and is retried when a reply
   * asks again; a rejected token throws the 77; a signal ends it with nothing changed.
   */
  async rotate(signal: AbortSignal): Promise<boolean> {
    if (this.store.unsavable !== undefined) {
      if (!this.#warnedUnsavable) {
        log.warn(
          `the backend asks for a new sensor token, but ${this.store.unsavable}; going on with the current one`,
        );
      }
      this.#warnedUnsavable = true;
      return false;
    }
    const current = this.credential.sensorToken;
    let reply: RotationReply;
    try {
      const answer = await request(this.backend, "POST", TOKEN_PATH, {
        body: {},
        headers: { ...this.credential.headers },
        signal,
        timer: clearableTimer,
      });
      reply = judgeRotationReply(answer.status, answer.text);
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      if (error.kind === "aborted") return false;
      reply = { kind: "failed", reason: error.message };
    }
    if (reply.kind === "rejected") {
      throw new AgentError(
        ExitCode.noPermission,
        `the backend rejected the sensor token (HTTP ${reply.status}) when asked for a new one; heartbeats stopped`,
        "Obtain a new install token, then run `enroll --force` with INSTALL_TOKEN set",
      );
    }
    if (reply.kind === "issued") registerSecret(reply.sensorToken);
    if (reply.kind === "issued" && reply.sensorToken === current) {
      reply = { kind: "failed", reason: "the reply holds the current token" };
    }
    if (reply.kind === "failed") {
      this.#fail(`could not get a new sensor token: ${reply.reason}`);
      return false;
    }
    try {
      // Saved before it is used: a crash from here on restarts with a token the backend accepts.
      await this.store.save(current, reply.sensorToken, signal);
    } catch (error) {
      if (signal.aborted) return false; // stopped while waiting for the config lock: not a failure
      this.#fail(`a new sensor token could not be saved: ${describe(error)}`, {
        issued: fingerprint(reply.sensorToken),
      });
      return false;
    }
    this.credential.use(reply.sensorToken);
    this.#failing = false;
    log.info("sensor token rotated", {
      from: fingerprint(current),
      to: fingerprint(reply.sensorToken),
    });
    return true;
  }

  #fail(problem: string, fields: Record<string, string> = {}): void {
    const message =
      `${problem}; going on with the saved token, and asking again when the backend does`;
    if (this.#failing) log.debug(message, fields);
    else log.warn(message, { current: fingerprint(this.credential.sensorToken), ...fields });
    this.#failing = true;
  }
}
