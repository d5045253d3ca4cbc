// reference-backend/settings.ts: the backend's environment variables, checked. Pure: the caller
// passes a lookup, and gets the settings or one line saying what to fix.
import { LOG_LEVELS, type LogLevel } from "../lib/log.ts";
import { DEFAULT_ENROLL_FAILURES, type FailureLimit, parseTrustedProxies } from "./http/mod.ts";
import type { AgentBinary } from "./install/mod.ts";
import { DEFAULT_TOKEN_MAX_AGE_DAYS } from "./store/mod.ts";

/** Every variable the backend reads: the permission set grants exactly these (launch.ts). */
export const BACKEND_ENV = [
  "PORT",
  "BACKEND_DATA",
  "ADMIN_TOKEN",
  "HEARTBEAT_INTERVAL_SECONDS",
  "PUBLIC_URL",
  "LOG_LEVEL",
  "AGENT_BINARY_URL",
  "AGENT_BINARY_SHA256",
  "TRUSTED_PROXIES",
  "ENROLL_FAILURE_LIMIT",
  "ENROLL_FAILURE_WINDOW_SECONDS",
  "DEV_INSECURE_HTTP",
  "ALERT_WEBHOOK_URL",
  "SENSOR_TOKEN_MAX_AGE_DAYS",
] as const;

export const DEFAULT_PORT = 5009;
export const DEFAULT_DATA = "./.backend-data";
export const DEFAULT_INTERVAL_SECONDS = 30;
const MIN_ADMIN_TOKEN_LENGTH = 16;
export const DEFAULT_ENROLL_FAILURE_LIMIT = DEFAULT_ENROLL_FAILURES.limit;
export const DEFAULT_ENROLL_FAILURE_WINDOW_SECONDS = DEFAULT_ENROLL_FAILURES.windowMs / 1000;
export const DEFAULT_SENSOR_TOKEN_MAX_AGE_DAYS = DEFAULT_TOKEN_MAX_AGE_DAYS;
// Ten years: a longer limit is no limit, and 0 says that plainly.
const MAX_SENSOR_TOKEN_MAX_AGE_DAYS = 3650;

export interface BackendSettings {
  /** 0 picks a free port (tests and the demo read the address from the "listening" line). */
  readonly port: number;
  /** A directory for the local store, or the URL of a hosted Deno KV. */
  readonly data: string;
  readonly adminToken: string;
  readonly heartbeatIntervalSeconds: number;
  /** The address agents are told; http://127.0.0.1:<port> when unset. */
  readonly publicUrl?: string;
  readonly logLevel: LogLevel;
  /**
   * Where the install command downloads the agent binary from, and its SHA-256 (lowercase hex):
   * both or neither. Unset: the command installs ./sensor-agent, copied there by the operator.
   */
  readonly agentBinary?: AgentBinary;
  /**
   * The addresses of the reverse proxies whose X-Forwarded-For names the client (http/client.ts).
   * Empty: the backend serves clients directly, a development mode without the proxy's protections.
   */
  readonly trustedProxies: ReadonlySet<string>;
  /** Failed enrollments allowed per client address and window (http/ratelimit.ts). */
  readonly enrollFailures: FailureLimit;
  /**
   * DEV_INSECURE_HTTP=1: the public URL may be plain http, and the install command says it is
   * for development only. Without it the backend refuses to hand out an http:// install command.
   */
  readonly insecureHttp: boolean;
  /**
   * Where the alert sweep POSTs a sensor going silent or coming back (api/alerts.ts); unset: the
   * audit trail alone records them.
   */
  readonly alertWebhookUrl?: string;
  /** A sensor token older than this many days is asked to rotate at its next beat; 0: never. */
  readonly sensorTokenMaxAgeDays: number;
}

/** A setting that cannot be used; the message is the whole line the operator sees. */
export class SettingsError extends Error {}

/** The settings from `env`, or a SettingsError naming the variable and what to set. */
export function readSettings(
  env: (name: typeof BACKEND_ENV[number]) => string | undefined,
): BackendSettings {
  const adminToken = env("ADMIN_TOKEN") ?? "";
  if (adminToken === "") {
    throw new SettingsError(
      "ADMIN_TOKEN is not set: the admin API cannot be protected without it. " +
        "Set it to a long random secret, e.g. export ADMIN_TOKEN=$(openssl rand -hex 32)",
    );
  }
  if (adminToken.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(adminToken)) {
    throw new SettingsError(
      `ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters without blanks. ` +
        "Set it to a long random secret, e.g. export ADMIN_TOKEN=$(openssl rand -hex 32)",
    );
  }
  const logLevel = env("LOG_LEVEL") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new SettingsError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  }
  const insecure = env("DEV_INSECURE_HTTP") ?? "";
  if (!["", "0", "1"].includes(insecure)) {
    throw new SettingsError("DEV_INSECURE_HTTP must be 1 (plain http, for development) or unset");
  }
  const insecureHttp = insecure === "1";
  const url = publicUrl(env("PUBLIC_URL"));
  // The install command makes a sensor run what it downloads as root: over plain http anyone on
  // the path could swap it. The backend itself serves http on loopback behind a TLS proxy.
  if (!insecureHttp && !url?.startsWith("https://")) {
    throw new SettingsError(
      `${url === undefined ? "PUBLIC_URL is not set, and" : "PUBLIC_URL is http://:"} ` +
        "the install command would fetch what it runs as root over plain http. " +
        "Set PUBLIC_URL to the https:// address of the TLS proxy in front of this backend, " +
        "or DEV_INSECURE_HTTP=1 for a trial on this machine",
    );
  }
  const seconds = (name: typeof BACKEND_ENV[number], fallback: number, max: number) =>
    integer(env(name), name, fallback, 1, max) * 1000;
  return {
    port: integer(env("PORT"), "PORT", DEFAULT_PORT, 0, 65_535),
    data: env("BACKEND_DATA") || DEFAULT_DATA,
    adminToken,
    heartbeatIntervalSeconds: integer(
      env("HEARTBEAT_INTERVAL_SECONDS"),
      "HEARTBEAT_INTERVAL_SECONDS",
      DEFAULT_INTERVAL_SECONDS,
      1,
      86_400,
    ),
    publicUrl: url,
    logLevel: logLevel as LogLevel,
    agentBinary: agentBinary(env("AGENT_BINARY_URL"), env("AGENT_BINARY_SHA256")),
    trustedProxies: trustedProxies(env("TRUSTED_PROXIES")),
    enrollFailures: {
      limit: integer(
        env("ENROLL_FAILURE_LIMIT"),
        "ENROLL_FAILURE_LIMIT",
        DEFAULT_ENROLL_FAILURE_LIMIT,
        1,
        1_000_000,
      ),
      windowMs: seconds(
        "ENROLL_FAILURE_WINDOW_SECONDS",
        DEFAULT_ENROLL_FAILURE_WINDOW_SECONDS,
        86_400,
      ),
    },
    insecureHttp,
    alertWebhookUrl: webhookUrl(env("ALERT_WEBHOOK_URL")),
    sensorTokenMaxAgeDays: integer(
      env("SENSOR_TOKEN_MAX_AGE_DAYS"),
      "SENSOR_TOKEN_MAX_AGE_DAYS",
      DEFAULT_SENSOR_TOKEN_MAX_AGE_DAYS,
      0,
      MAX_SENSOR_TOKEN_MAX_AGE_DAYS,
    ),
  };
}

function webhookUrl(text: string | undefined): string | undefined {
  if (text === undefined || text === "") return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError("ALERT_WEBHOOK_URL must be an absolute http:// or https:// URL");
  }
  if (!["http:", "https:"].includes(url.protocol) || url.username || url.password) {
    throw new SettingsError(
      "ALERT_WEBHOOK_URL must be an http:// or https:// URL without credentials (a secret the " +
        "receiver needs goes in its path)",
    );
  }
  return url.href;
}

function trustedProxies(text: string | undefined): ReadonlySet<string> {
  const parsed = parseTrustedProxies(text ?? "");
  if ("bad" in parsed) {
    throw new SettingsError(
      `TRUSTED_PROXIES must list IP addresses (separated by commas), not ${
        JSON.stringify(parsed.bad.slice(0, 60))
      }: the address the reverse proxy connects from, e.g. 127.0.0.1`,
    );
  }
  return parsed.addresses;
}

function integer(
  text: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new SettingsError(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function publicUrl(text: string | undefined): string | undefined {
  if (text === undefined || text === "") return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError("PUBLIC_URL must be an absolute http:// or https:// URL");
  }
  if (!["http:", "https:"].includes(url.protocol) || url.username || url.password) {
    throw new SettingsError("PUBLIC_URL must be an http:// or https:// URL without credentials");
  }
  // The agent refuses a BACKEND_URL with a query or fragment (lib/config/values.ts), and install.sh one
  // with a single quote (its env file cannot hold it): the install command would fail on the host.
  if (/[?#']/.test(url.href)) {
    throw new SettingsError(
      "PUBLIC_URL must not carry a query, a fragment or a single quote (write it as %27): " +
        "agents and install.sh refuse such a BACKEND_URL",
    );
  }
  return url.href.replace(/\/+$/, "");
}

function agentBinary(
  text: string | undefined,
  sha256: string | undefined,
): AgentBinary | undefined {
  const advice =
    "set both AGENT_BINARY_URL and AGENT_BINARY_SHA256 (sha256sum prints it), or neither";
  if (!text && !sha256) return undefined;
  if (!text) {
    throw new SettingsError(`AGENT_BINARY_SHA256 is set without AGENT_BINARY_URL: ${advice}`);
  }
  if (!sha256) {
    throw new SettingsError(
      `AGENT_BINARY_URL is set without AGENT_BINARY_SHA256: install.sh refuses a download it ` +
        `cannot check; ${advice}`,
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError("AGENT_BINARY_URL must be an absolute http:// or https:// URL");
  }
  if (!["http:", "https:"].includes(url.protocol) || url.username || url.password) {
    throw new SettingsError(
      "AGENT_BINARY_URL must be an http:// or https:// URL without credentials",
    );
  }
  if (!/^[0-9a-fA-F]{64}$/.test(sha256)) {
    throw new SettingsError(
      "AGENT_BINARY_SHA256 must be the binary's SHA-256: 64 hex digits (sha256sum prints them)",
    );
  }
  return { url: url.href, sha256: sha256.toLowerCase() };
}
