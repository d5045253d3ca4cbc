// lib/config/values.ts: the parsers of single settings (docs/configuration.md). Pure: each is given
// the `fail` that turns a problem into the configuration error (78) naming the variable and its
// source.
import type { ConfigKey } from "./settings.ts";

/** Throws the configuration error for `key`: what is wrong with it and what to do. */
export type Fail = (key: ConfigKey, problem: string, advice: string) => never;

/** BACKEND_URL as a URL: http or https, no credentials, query or fragment; undefined when unset. */
export function parseBackendUrl(value: string | undefined, fail: Fail): URL | undefined {
  if (value === undefined) return undefined;
  const advice = "Set BACKEND_URL to the backend's base URL, e.g. https://backend.example:5009";
  if (/\s/.test(value)) fail("BACKEND_URL", "contains white space", advice);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail("BACKEND_URL", "is not a URL", advice);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    fail("BACKEND_URL", `uses ${url.protocol} instead of http: or https:`, advice);
  }
  if (url.username !== "" || url.password !== "") {
    // Credentials in a URL end up in logs and proxies; the agent authenticates with its tokens.
    fail("BACKEND_URL", "carries credentials", "Remove the user:password@ part from BACKEND_URL");
  }
  if (url.search !== "" || url.hash !== "") {
    fail("BACKEND_URL", "carries a query or fragment", advice);
  }
  return url;
}

/** SENSOR_PORT as a number from 1 to 65535; 22 when unset. */
export function parsePort(value: string | undefined, fail: Fail): number {
  if (value === undefined) return 22;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    fail(
      "SENSOR_PORT",
      `is "${value}", not a port from 1 to 65535`,
      "Set SENSOR_PORT to the SSH port",
    );
  }
  return port;
}

/** BACKEND_TIMEOUT_SECONDS in milliseconds (above 0, at most an hour); 30 s when unset. */
export function parseTimeout(value: string | undefined, fail: Fail): number {
  if (value === undefined) return 30_000;
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(seconds > 0 && seconds <= 3600)) {
    fail(
      "BACKEND_TIMEOUT_SECONDS",
      `is "${value}", not a number of seconds above 0 and at most 3600`,
      "Set BACKEND_TIMEOUT_SECONDS to e.g. 30",
    );
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/** True for a literal IPv4 or IPv6 address (no host names: SENSOR_IP is what Ansible dials). */
export function isIpAddress(text: string): boolean {
  // No leading zeros: some tools read 010.0.0.1 as octal.
  if (/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(text)) {
    return text.split(".").every((part) => Number(part) <= 255);
  }
  // Only hex digits, colons and an IPv4 tail: anything else (a `]` above all) would let the URL
  // parser below read a port, path or fragment into what it accepts.
  if (!text.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(text)) return false;
  try {
    return new URL(`http://[${text}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** A host binding as the agent writes it (docs/protocol.md): 64 lowercase hex digits. */
export const HOST_BINDING_PATTERN = /^[0-9a-f]{64}$/;

/** SENSOR_HOST_BINDING, checked: the agent wrote it, so anything else is a damaged line. */
export function parseHostBinding(value: string | undefined, fail: Fail): string | undefined {
  if (value !== undefined && !HOST_BINDING_PATTERN.test(value)) {
    fail(
      "SENSOR_HOST_BINDING",
      "is not 64 lowercase hex digits, as the agent writes it",
      "Remove the SENSOR_HOST_BINDING line: the agent writes it again at its next accepted heartbeat",
    );
  }
  return value;
}
