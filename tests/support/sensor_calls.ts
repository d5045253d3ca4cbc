// tests/support/sensor_calls.ts: the requests a sensor makes with its token, as any agent speaking
// docs/protocol.md would make them with plain fetch: a heartbeat and a rotation request, each with
// the host's Sensor-Host-Binding when it has one; and bindings for hosts named in a test.
import { type Answer, type BackendClient, heartbeatBody } from "./refbackend.ts";

/** The header every request made with a sensor token carries when the host has a machine id. */
export const BINDING_HEADER = "Sensor-Host-Binding";

/** A binding for the host named `name`: 64 lowercase hex digits, as an agent sends it. */
export async function bindingOf(name: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(name));
  return new Uint8Array(hash).toHex();
}

/** POST /api/sensors/heartbeat with `token`, from the host with `binding` (none when null). */
export function beatFrom(
  backend: BackendClient,
  token: string,
  binding: string | null,
  body: Record<string, unknown> = heartbeatBody(),
): Promise<Answer> {
  return backend.call("POST", "/api/sensors/heartbeat", body, token, headers(binding));
}

/** POST /api/sensors/token with `token` and the body `{}`, from the host with `binding`. */
export function rotateFrom(
  backend: BackendClient,
  token: string,
  binding: string | null,
  body: unknown = {},
): Promise<Answer> {
  return backend.call("POST", "/api/sensors/token", body, token, headers(binding));
}

function headers(binding: string | null): Record<string, string> {
  return binding === null ? {} : { [BINDING_HEADER]: binding };
}
