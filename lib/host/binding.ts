// lib/host/binding.ts: the host binding (docs/protocol.md, Requests made with a sensor token): a
// keyed hash of the machine id that tells this host from any other without revealing the id, sent
// with every request made with the sensor token and saved beside it in the env file, so that a copy
// of that file on another machine is recognised before it sends anything.
import { hex, hmacSha256 } from "../sha256.ts";
import { readMachineId } from "./hostfacts.ts";

/**
 * The fixed message the machine id keys: an application-specific id, derived the way systemd's
 * sd_id128_get_machine_app_specific() derives one. "/v1" leaves room for another derivation
 * without any host's binding ever meaning two things.
 */
export const HOST_BINDING_LABEL = "ravenxcope-sensor-host-binding/v1";

/**
 * The binding of the host whose machine id is `machineId`: 64 lowercase hex digits of
 * HMAC-SHA-256 keyed by the id over HOST_BINDING_LABEL. The same for a host as long as its machine
 * id stays; different across hosts; the id cannot be recovered from it (it is the key, not the
 * message), and it is unlike the Idempotency-Key, which the id is the message of.
 */
export function hostBinding(machineId: string): string {
  const encoder = new TextEncoder();
  return hex(hmacSha256(encoder.encode(machineId), encoder.encode(HOST_BINDING_LABEL)));
}

/**
 * This host's binding, from the machine id of `machineIdFile` (else /etc/machine-id), or
 * undefined on a host without one (readMachineId warns once: such a host cannot tell a copy).
 */
export async function readHostBinding(machineIdFile: string): Promise<string | undefined> {
  const machineId = await readMachineId(machineIdFile);
  return machineId === undefined ? undefined : hostBinding(machineId);
}
