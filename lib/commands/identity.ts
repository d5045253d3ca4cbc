// lib/commands/identity.ts: who this host is, for the commands that start with a sensor token:
// its machine id and host binding (host/), what the env file's saved binding says of it
// (config/'s copy rule), and where the next start finds the token.
import { bindingVerdict, type Config, copiedConfigError } from "../config/mod.ts";
import { hostBinding, readMachineId } from "../host/mod.ts";

/** This host's machine id and the binding derived from it; both undefined without a machine id. */
export interface HostIdentity {
  readonly machineId?: string;
  readonly hostBinding?: string;
}

/** Reads the machine id (warning once without one) and derives the binding from it. */
export async function hostIdentity(config: Config): Promise<HostIdentity> {
  const machineId = await readMachineId(config.machineIdFile);
  return { machineId, hostBinding: machineId && hostBinding(machineId) };
}

/**
 * True when `config` is a copy of another machine's env file that holds an install token: this
 * host enrolls with it, as `enroll --force` would. Throws the 78 of a copy without one: nothing is
 * sent with a token that belongs to another machine.
 */
export function enrollsCopy(config: Config, identity: HostIdentity): boolean {
  if (config.sensorToken === undefined) return false;
  if (bindingVerdict(config.hostBinding, identity.hostBinding) !== "another host") return false;
  if (config.installToken === undefined) throw copiedConfigError(config);
  return true;
}

/** True when the environment sets SENSOR_TOKEN: it wins over the file at every start. */
export function fromEnvironment(config: Config): boolean {
  return config.sensorToken !== undefined && !config.sensorTokenInFile;
}
