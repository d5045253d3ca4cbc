// tests/support/refbackend.ts: the reference backend (reference-backend/) as a subprocess on a free
// loopback port with a temporary store, and the requests tests make to it. Every token it hands
// out is added to the tokens no agent output may contain.
import assert from "node:assert/strict";
import { idempotencyKey } from "../../lib/backend/mod.ts";
import { launchBackend, type LaunchOptions } from "../../reference-backend/launch.ts";
import type { AgentBinary } from "../../reference-backend/install/mod.ts";
import { usedTokens } from "./agent.ts";
import { rawExchange } from "./rawhttp.ts";
import { tempDir } from "./tempdir.ts";
import { SEED_PAYLOAD } from "./seed.ts";

/** A reply's status and parsed JSON body. */
export interface Answer {
  readonly status: number;
  // deno-lint-ignore no-explicit-any
  readonly body: any;
}

/** The requests tests make to a reference backend at `url`, as the admin or as a sensor. */
export interface BackendClient {
  readonly url: string;
  readonly adminToken: string;
  /**
   * Sends `body` as JSON to `path` with `Authorization: Bearer <bearer>`: the admin token unless
   * `bearer` says otherwise, none when it is null.
   */
  call(
    method: string,
    path: string,
    body?: unknown,
    bearer?: string | null,
    headers?: Record<string, string>,
  ): Promise<Answer>;
  /** Mints an install token as the admin and returns it. */
  mint(body?: unknown): Promise<string>;
  /** POST /api/sensors/enroll without any admin header. */
  enroll(body: unknown, idempotencyKey?: string): Promise<Answer>;
  /** POST /api/sensors/heartbeat with `sensorToken`. */
  beat(sensorToken: string, body?: unknown): Promise<Answer>;
  /** The fleet listing, as the admin. */
  // deno-lint-ignore no-explicit-any
  fleet(): Promise<any[]>;
}

/** A running reference backend; `await using` stops it and removes its store. */
export interface RefBackend extends BackendClient {
  readonly dataDir: string;
  /** The backend's process id. */
  readonly pid: number;
  /** Everything it logged so far. */
  output(): string;
  /** SIGTERM; resolves with the exit code and everything the backend logged. The store stays. */
  stop(): Promise<{ code: number; output: string }>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** More of the launch: variables (TRUSTED_PROXIES, ...), `ulimit -n`, a project copy. */
export type RefBackendLaunch = Pick<LaunchOptions, "env" | "openFiles" | "root">;

/**
 * Starts a reference backend handing out `heartbeatIntervalSeconds` (default 30), with
 * AGENT_BINARY_URL and AGENT_BINARY_SHA256 set from `agentBinary` when given.
 */
export async function startRefBackend(
  heartbeatIntervalSeconds = 30,
  agentBinary?: AgentBinary,
  launch: RefBackendLaunch = {},
): Promise<RefBackend> {
  const dir = await tempDir();
  const adminToken = crypto.randomUUID() + crypto.randomUUID();
  usedTokens.add(adminToken);
  let backend;
  try {
    backend = await launchBackend({
      dataDir: dir.path,
      adminToken,
      heartbeatIntervalSeconds,
      agentBinary,
      ...launch,
    });
  } catch (error) {
    await dir[Symbol.asyncDispose]();
    throw error;
  }
  const stop = () => backend.stop();
  return {
    ...backendClient(backend.url, adminToken),
    dataDir: dir.path,
    pid: backend.pid,
    output: () => backend.output(),
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/**
 * The requests to the backend at `url` with `adminToken`. Every token a reply carries is added to
 * the tokens no agent output may contain.
 */
export function backendClient(url: string, adminToken: string): BackendClient {
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    bearer: string | null = adminToken,
    headers: Record<string, string> = {},
  ) => {
    const json: Record<string, string> = body === undefined
      ? {}
      : { "Content-Type": "application/json" };
    const response = await fetch(`${url}${path}`, {
      method,
      headers: bearer === null
        ? { ...json, ...headers }
        : { ...json, "Authorization": `Bearer ${bearer}`, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text === "" ? undefined : JSON.parse(text);
    if (typeof parsed?.data?.installToken === "string") usedTokens.add(parsed.data.installToken);
    if (typeof parsed?.data?.sensorToken === "string") usedTokens.add(parsed.data.sensorToken);
    return { status: response.status, body: parsed };
  };
  return {
    url,
    adminToken,
    call,
    async mint(body = {}) {
      const answer = await call("POST", "/api/install-tokens", body);
      if (answer.status !== 201) throw new Error(`minting failed: ${JSON.stringify(answer)}`);
      return answer.body.data.installToken;
    },
    enroll: (body, key) =>
      call(
        "POST",
        "/api/sensors/enroll",
        body,
        null,
        key === undefined ? {} : { "Idempotency-Key": key },
      ),
    beat: (sensorToken, body = heartbeatBody()) =>
      call("POST", "/api/sensors/heartbeat", body, sensorToken),
    async fleet() {
      const answer = await call("GET", "/api/sensors");
      if (answer.status !== 200) throw new Error(`fleet listing failed: ${JSON.stringify(answer)}`);
      return answer.body.data.sensors;
    },
  };
}

/** The seed's enrollment example (enrollment-flow.txt) with `installToken`, a fresh copy. */
export function seedPayload(installToken: string): Record<string, unknown> {
  return { ...structuredClone(SEED_PAYLOAD), installToken };
}

/** A heartbeat body of docs/protocol.md, with the seed's interfaces and `bytesSent` on the first. */
export function heartbeatBody(bytesSent = 1073741824): Record<string, unknown> {
  return {
    agentVersion: "2.0.0",
    sensorLabel: "sensor-1",
    hostname: "sensor-ubuntu-host",
    sensorIp: "192.168.1.100",
    uptimeSeconds: 42,
    interfaces: [{ ...SEED_PAYLOAD.interfaces[0], bytesSent }, { ...SEED_PAYLOAD.interfaces[1] }],
  };
}

/** The Idempotency-Key the agent on the machine `machineId` sends with `installToken`. */
export function keyFor(installToken: string, machineId: string): string {
  return idempotencyKey(installToken, machineId);
}

/** Two machine ids (/etc/machine-id), for a retry from the same machine and one from another. */
export const MACHINE_A = "0123456789abcdef0123456789abcdef";
export const MACHINE_B = "fedcba9876543210fedcba9876543210";

/**
 * Mints a token and enrolls the seed's example with it, with the Idempotency-Key of `machineId`
 * when given; returns the token, the key and the reply's data.
 */
export async function enrollSeed(backend: BackendClient, machineId?: string) {
  const installToken = await backend.mint();
  const key = machineId === undefined ? undefined : keyFor(installToken, machineId);
  const answer = await backend.enroll(seedPayload(installToken), key);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return { installToken, key, ...answer.body.data as { sensorId: string; sensorToken: string } };
}

/** Raw bytes to the backend (no proxy); what came back within `ms` or before the close. */
export async function rawToBackend(backend: RefBackend, raw: string, ms = 2_000): Promise<string> {
  const port = Number(new URL(backend.url).port);
  return await rawExchange(await Deno.connect({ hostname: "127.0.0.1", port }), raw, ms);
}
