// lib/config/mod.ts: the agent's configuration (docs/configuration.md). Owns the variables and
// where each value came from, the parsers of single values, the env file's grammar and its
// rewrites (enrollment, rotation, the host binding), reading the env file and the install-token
// file, where a path setting may lead (the confinement rules, and the HOST_PROC/HOST_SYS root
// rules), the validated Config every command works from, and saving the sensor token and the host
// binding. Never talks to the network; writes only through store/, and only when a save is called.
import { replaceFile } from "../store/mod.ts";
import {
  envValues,
  HOST_BINDING_KEY,
  parseEnvFile,
  rewriteEnvFile,
  withSensorToken,
} from "./envfile.ts";

export { DEFAULT_CONFIG_PATH, loadConfig, reloadConfig } from "./load.ts";
export type { Config } from "./resolve.ts";
export { CONFIG_KEYS, type ConfigKey, readEnvironment } from "./settings.ts";
export { HOST_BINDING_PATTERN, isIpAddress } from "./values.ts";
export { type BindingVerdict, bindingVerdict, copiedConfigError } from "./binding.ts";
export {
  type EnvFileChanges,
  type EnvLine,
  envValues,
  HOST_BINDING_KEY,
  INSTALL_TOKEN_CONSUMED,
  parseEnvFile,
  rewriteEnvFile,
  SENSOR_TOKEN_PATTERN,
  withSensorToken,
} from "./envfile.ts";
export { isWithin } from "./confinement.ts";
export { hostRootFiles, type HostRoots, leadsWhereNamed } from "./hostroots.ts";

/**
 * Writes the sensor token into the env file atomically (docs/configuration.md, What the agent
 * writes): every other line kept byte for byte, the install token commented out, the host binding
 * beside the token (removed when `hostBinding` is undefined: a host without a machine id), mode
 * 0600, owner and group kept; a crash at any instant leaves the old file or the new one. Throws an
 * Error naming the path and the reason; the file is untouched then. The caller holds the config
 * lock.
 */
export async function saveSensorToken(
  configPath: string,
  sensorToken: string,
  hostBinding?: string,
): Promise<void> {
  await replaceFile(
    configPath,
    (before, target) => withSensorToken(parseEnvFile(before, target), sensorToken, hostBinding),
  );
}

/**
 * Saves `next` in place of `current`, the token the agent started with (docs/protocol.md, POST
 * /api/sensors/token): SENSOR_TOKEN replaced in place, every other line byte for byte, atomically,
 * as saveSensorToken. Writes nothing when the file holds `next` already (a save whose error came
 * after its rename). Throws, writing nothing, when the file holds neither: something else rewrote
 * it since, and its token is not this agent's to replace. The caller holds the config lock.
 */
export async function saveRotatedSensorToken(
  configPath: string,
  current: string,
  next: string,
): Promise<void> {
  await replaceFile(configPath, (before, target) => {
    const lines = parseEnvFile(before, target);
    const saved = envValues(lines).get("SENSOR_TOKEN");
    if (saved === next) return undefined;
    if (saved !== current) throw new Error(FILE_TOKEN_CHANGED);
    return rewriteEnvFile(lines, { sensorToken: next });
  });
}

/**
 * Adds (or corrects) SENSOR_HOST_BINDING beside the SENSOR_TOKEN line of a file enrolled before the
 * binding existed, every other line byte for byte, atomically. Writes nothing when the file holds
 * that binding already; throws, writing nothing, when its token is no longer `sensorToken`. The
 * caller holds the config lock.
 */
export async function saveHostBinding(
  configPath: string,
  sensorToken: string,
  hostBinding: string,
): Promise<void> {
  await replaceFile(configPath, (before, target) => {
    const lines = parseEnvFile(before, target);
    const values = envValues(lines);
    if (values.get("SENSOR_TOKEN") !== sensorToken) throw new Error(FILE_TOKEN_CHANGED);
    if (values.get(HOST_BINDING_KEY) === hostBinding) return undefined;
    return rewriteEnvFile(lines, { hostBinding });
  });
}

const FILE_TOKEN_CHANGED =
  "its SENSOR_TOKEN is no longer the one this agent started with (another agent, or enroll --force, rewrote it)";
