// lib/config/mod.ts: the agent's configuration (docs/configuration.md). Owns the variables and
// where each value came from, the parsers of single values, the env file's grammar and its
// enrollment rewrite, reading the env file and the install-token file, where a path setting may
// lead (the confinement rules, and the HOST_PROC/HOST_SYS root rules), the validated Config every
// command works from, and saving the sensor token. Never talks to the network; writes only through
// store/, and only when saveSensorToken is called.
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
export { isWithin, type PathProbe } from "./confinement.ts";
export { hostRootFiles, type HostRoots, leadsWhereNamed } from "./hostroots.ts";

/**
 * Writes the sensor token into the env file atomically, every other line kept (save.ts). Loaded
 * when first called: only enroll and run write.
 */
export async function saveSensorToken(configPath: string, sensorToken: string): Promise<void> {
  return await (await import("./save.ts")).saveSensorToken(configPath, sensorToken);
}
