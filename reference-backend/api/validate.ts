// reference-backend/api/validate.ts: what the backend accepts, field by field (docs/protocol.md).
// Pure: each function takes parsed JSON and returns the typed value or the reason it is refused,
// naming the field; `valid` turns a refusal into the route's 400. Strict on purpose: a field the
// contract does not name is refused, so an agent that drifts from the contract shows up in tests
// instead of in production data.
import { isIpAddress } from "../../lib/config/mod.ts";
import type { EnrollmentPayload, HeartbeatBody } from "../../lib/backend/mod.ts";
import type { NetworkInterface } from "../../lib/host/mod.ts";
import { HttpError } from "../http/mod.ts";
import { escapeForDisplay } from "./display.ts";

/** A value that passed, or the reason it did not (sent back with a 400). */
export type Checked<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly reason: string;
};

/** The checked value, or HttpError 400 with the reason (it names a field, never a value). */
export function valid<T>(result: Checked<T>): T {
  if (!result.ok) throw new HttpError(400, result.reason);
  return result.value;
}

/** What an admin may ask for when minting an install token. */
export interface MintRequest {
  readonly ttlSeconds: number;
  readonly note?: string;
  /** The sensor's SENSOR_ID: the install command passes it to install.sh as --sensor-id. */
  readonly label?: string;
}

export const DEFAULT_TTL_SECONDS = 3600;
export const MAX_TTL_SECONDS = 7 * 86_400;

const ENROLLMENT_FIELDS = [
  "installToken",
  "hostname",
  "osInfo",
  "architecture",
  "agentVersion",
  "sensorIp",
  "sensorPort",
  "sudoUser",
  "interfaces",
] as const;
const HEARTBEAT_FIELDS = [
  "agentVersion",
  "sensorLabel",
  "hostname",
  "sensorIp",
  "uptimeSeconds",
  "interfaces",
] as const;
const INTERFACE_FIELDS = [
  "name",
  "isManagement",
  "isLoopback",
  "isVirtual",
  "isWireless",
  "isUp",
  "bytesSent",
  "bytesRecv",
] as const;
const INTERFACE_FLAGS = ["isManagement", "isLoopback", "isVirtual", "isWireless", "isUp"] as const;

/** Thrown inside this module only; every exported function turns it into a Checked. */
class Refused extends Error {}

function checked<T>(read: () => T): Checked<T> {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, reason: error.message };
    throw error;
  }
}

/** The enrollment body: exactly the nine fields of the seed's example, with its JSON types. */
export function checkEnrollment(body: unknown): Checked<EnrollmentPayload> {
  return checked(() => {
    const record = fields(body, ENROLLMENT_FIELDS, "body");
    return {
      installToken: text(record, "installToken", 4096),
      hostname: text(record, "hostname", 255),
      osInfo: text(record, "osInfo", 255),
      architecture: text(record, "architecture", 64),
      agentVersion: text(record, "agentVersion", 64),
      sensorIp: ipOrEmpty(record, "sensorIp"),
      sensorPort: integer(record, "sensorPort", 1, 65_535),
      sudoUser: text(record, "sudoUser", 64),
      interfaces: interfaces(record.interfaces),
    };
  });
}

/** The heartbeat body of docs/protocol.md: the six fields, with their JSON types. */
export function checkHeartbeat(body: unknown): Checked<HeartbeatBody> {
  return checked(() => {
    const record = fields(body, HEARTBEAT_FIELDS, "body");
    return {
      agentVersion: text(record, "agentVersion", 64),
      sensorLabel: record.sensorLabel === null ? null : text(record, "sensorLabel", 255, 0),
      hostname: text(record, "hostname", 255),
      sensorIp: ipOrEmpty(record, "sensorIp"),
      uptimeSeconds: integer(record, "uptimeSeconds", 0, Number.MAX_SAFE_INTEGER),
      interfaces: interfaces(record.interfaces),
    };
  });
}

/**
 * The mint request: an optional ttlSeconds (1 s to 7 days, default one hour), note, and label (the
 * sensor's SENSOR_ID: 1-200 characters, no single quote, which install.sh's env file cannot hold,
 * and no blank at either end, which the env file would lose).
 */
export function checkMintRequest(body: unknown): Checked<MintRequest> {
  return checked(() => {
    const record = fields(body ?? {}, ["ttlSeconds", "note", "label"], "body", false);
    const label = record.label === undefined ? undefined : text(record, "label", 200);
    if (label?.includes("'")) {
      throw new Refused("label: must not hold a single quote (the sensor's env file cannot)");
    }
    if (label !== undefined && label.trim() !== label) {
      throw new Refused("label: must not start or end with a blank");
    }
    return {
      ttlSeconds: record.ttlSeconds === undefined
        ? DEFAULT_TTL_SECONDS
        : integer(record, "ttlSeconds", 1, MAX_TTL_SECONDS),
      note: record.note === undefined ? undefined : text(record, "note", 200, 0),
      label,
    };
  });
}

/** A rotation request's body (POST /api/sensors/token, POST /api/sensors/rotate): `{}`, or none. */
export function checkRotationRequest(body: unknown): Checked<Record<never, never>> {
  return checked(() => fields(body ?? {}, [], "body", false) as Record<never, never>);
}

/**
 * The Idempotency-Key header (docs/protocol.md): absent, or 64 lowercase hex digits (an
 * HMAC-SHA-256). Anything else is refused rather than treated as "another key".
 */
export function checkIdempotencyKey(header: string | null): Checked<string | undefined> {
  if (header === null) return { ok: true, value: undefined };
  if (/^[0-9a-f]{64}$/.test(header)) return { ok: true, value: header };
  return { ok: false, reason: "Idempotency-Key: must be 64 lowercase hex digits (HMAC-SHA-256)" };
}

function interfaces(value: unknown): NetworkInterface[] {
  if (!Array.isArray(value)) throw new Refused("interfaces: must be an array");
  return value.map((entry, i) => {
    const where = `interfaces[${i}]`;
    const record = fields(entry, INTERFACE_FIELDS, where);
    const nic = { name: text(record, "name", 64, 1, where) } as NetworkInterface;
    for (const flag of INTERFACE_FLAGS) {
      if (typeof record[flag] !== "boolean") {
        throw new Refused(`${where}.${flag}: must be a boolean`);
      }
      nic[flag] = record[flag];
    }
    nic.bytesSent = integer(record, "bytesSent", 0, Number.MAX_SAFE_INTEGER, where);
    nic.bytesRecv = integer(record, "bytesRecv", 0, Number.MAX_SAFE_INTEGER, where);
    return nic;
  });
}

/** The object's fields, after checking it holds no unknown one and (if `all`) every known one. */
function fields(
  value: unknown,
  known: readonly string[],
  where: string,
  all = true,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Refused(`${where}: must be a JSON object`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    // The name is the client's own text: quoted, and cut short, since it goes to the log too.
    if (!known.includes(key)) {
      const shown = escapeForDisplay(key.slice(0, 40));
      throw new Refused(`${where}: unknown field ${JSON.stringify(shown)}`);
    }
  }
  if (all) {
    for (const key of known) {
      if (!(key in record)) throw new Refused(`${where}: missing field "${key}"`);
    }
  }
  return record;
}

// C0 controls and DEL: a newline in a hostname would forge lines in logs and inventories.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function text(
  record: Record<string, unknown>,
  key: string,
  max: number,
  min = 1,
  where?: string,
): string {
  const name = where === undefined ? key : `${where}.${key}`;
  const value = record[key];
  if (typeof value !== "string") throw new Refused(`${name}: must be a string`);
  if (value.length < min) throw new Refused(`${name}: must not be empty`);
  if (value.length > max) throw new Refused(`${name}: must be at most ${max} characters`);
  if (CONTROL.test(value)) throw new Refused(`${name}: must not hold control characters`);
  return value;
}

function integer(
  record: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  where?: string,
): number {
  const name = where === undefined ? key : `${where}.${key}`;
  const value = record[key];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}-${max}`;
    throw new Refused(`${name}: must be an integer ${range}`);
  }
  return value;
}

function ipOrEmpty(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (typeof value !== "string") throw new Refused(`${key}: must be a string`);
  if (value !== "" && !isIpAddress(value)) {
    throw new Refused(`${key}: must be an IPv4 or IPv6 address, or "" when none was found`);
  }
  return value;
}
