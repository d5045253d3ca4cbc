// lib/config/settings.ts: the agent's variables (docs/configuration.md) and where each value came
// from. The config file and the process environment both supply them; the environment wins.

/** Every variable of docs/configuration.md: the only ones the agent reads, from file or environment. */
export const CONFIG_KEYS = [
  "INSTALL_TOKEN",
  "INSTALL_TOKEN_FILE",
  "SENSOR_TOKEN",
  "SENSOR_HOST_BINDING",
  "BACKEND_URL",
  "SENSOR_ID",
  "SENSOR_PORT",
  "SENSOR_IP",
  "HOST_HOSTNAME_FILE",
  "HOST_OS_RELEASE_FILE",
  "HOST_MACHINE_ID_FILE",
  "HOST_PROC",
  "HOST_SYS",
  "BACKEND_CA_FILE",
  "BACKEND_TIMEOUT_SECONDS",
  "LOG_FORMAT",
  "LOG_LEVEL",
] as const;

/** A variable of docs/configuration.md. */
export type ConfigKey = typeof CONFIG_KEYS[number];

/** A value and where it came from, so an error can name the place to fix. */
export interface Setting {
  readonly value: string;
  readonly source: string; // FROM_ENVIRONMENT or "<path> line <n>"
}

/** The source of a value the process environment set. */
export const FROM_ENVIRONMENT = "the environment";

/** Settings by variable, after the merge of file and environment. */
export type Settings = ReadonlyMap<ConfigKey, Setting>;

/**
 * Merges the file's assignments with the environment; the environment wins for every key
 * (docs/configuration.md). Keys outside CONFIG_KEYS are ignored, so other tools may share the file.
 */
export function mergeSettings(
  fileValues: ReadonlyMap<string, { value: string; line: number }>,
  env: Readonly<Record<string, string | undefined>>,
  configPath: string,
): Map<ConfigKey, Setting> {
  const merged = new Map<ConfigKey, Setting>();
  for (const key of CONFIG_KEYS) {
    const fromEnv = env[key];
    const fromFile = fileValues.get(key);
    if (fromEnv !== undefined && fromEnv !== "") {
      merged.set(key, { value: fromEnv, source: FROM_ENVIRONMENT });
    } else if (fromFile !== undefined && fromFile.value !== "") {
      merged.set(key, { value: fromFile.value, source: `${configPath} line ${fromFile.line}` });
    }
  }
  return merged;
}

/** The process environment, limited to the contract's variables (the permission set allows no more). */
export function readEnvironment(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const key of CONFIG_KEYS) {
    try {
      env[key] = Deno.env.get(key);
    } catch {
      env[key] = undefined; // not granted: as good as unset
    }
  }
  return env;
}
