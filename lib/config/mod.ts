// lib/config/mod.ts: the agent's configuration (docs/configuration.md). Owns the variables and
// where each value came from, the parsers of single values, the env file's grammar and its
// enrollment rewrite, reading the env file and the install-token file, where a path setting may
// lead (the confinement rules, and the HOST_PROC/HOST_SYS root rules), the validated Config every
// command works from, and saving the sensor token. Never talks to the network; writes only through
// store/, and only when saveSensorToken is called.
import { replaceFile } from "../store/mod.ts";
import { parseEnvFile, withSensorToken } from "./envfile.ts";

export { type Config, DEFAULT_CONFIG_PATH, loadConfig } from "./load.ts";
export { CONFIG_KEYS, type ConfigKey, readEnvironment } from "./settings.ts";
export { isIpAddress } from "./values.ts";
export {
  type EnvLine,
  envValues,
  INSTALL_TOKEN_CONSUMED,
  parseEnvFile,
  SENSOR_TOKEN_PATTERN,
  withSensorToken,
} from "./envfile.ts";
export { isWithin } from "./confinement.ts";
export { hostRootFiles, type HostRoots, leadsWhereNamed } from "./hostroots.ts";

/**
 * Writes the sensor token into the env file atomically (docs/configuration.md, What the agent
 * writes): every other line kept byte for byte, the install token commented out, mode 0600, owner
 * and group kept; a crash at any instant leaves the old file or the new one. Throws an Error naming
 * the path and the reason; the file is untouched then. The caller holds the config lock.
 */
export async function saveSensorToken(configPath: string, sensorToken: string): Promise<void> {
  await replaceFile(
    configPath,
    (before, target) => withSensorToken(parseEnvFile(before, target), sensorToken),
  );
}
