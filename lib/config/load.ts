// lib/config/load.ts: loading the configuration every command works from (docs/configuration.md):
// the config file, read where it really is, merged with the environment and validated by
// resolve.ts; and loading it again under the config lock without resolving it twice.
import { readConfigText, readInstallTokenFile } from "./configfile.ts";
import { confinedPath, confinementProblem, pseudoFileSystems } from "./confinement.ts";
import { parseEnvFile, rewriteHazard } from "./envfile.ts";
import { configError } from "../errors.ts";
import { type PathProbe, processProbe, targetOrPath } from "../store/mod.ts";
import { registerSecret } from "../secrets.ts";
import { mergeSettings, readEnvironment, type Setting, type Settings } from "./settings.ts";
import { type Config, resolveConfig } from "./resolve.ts";

/** Where the agent looks for its env file when neither --config nor SENSOR_AGENT_CONFIG says. */
export const DEFAULT_CONFIG_PATH = "/etc/ravenxcope/sensor-agent.env";

/**
 * Loads the configuration: the file (if any, read where it really is) merged with the
 * environment, validated, with every token registered for redaction before anything can print it.
 * Everything here only reads: a configuration error leaves the machine as it was.
 */
export async function loadConfig(
  configPath: string,
  env?: Readonly<Record<string, string | undefined>>,
  probe?: PathProbe,
): Promise<Config> {
  // Only a load from this process's own environment and permissions can be reloaded later.
  const reloadable = env === undefined && probe === undefined;
  env ??= readEnvironment();
  probe ??= processProbe;
  const outside = () =>
    configError(
      `config file ${configPath} is outside what this build's permission set may read`,
      `Use the default ${DEFAULT_CONFIG_PATH} or widen the read and write lists in deno.json`,
    );
  if (!probe.canRead(configPath)) throw outside();
  const configTarget = targetOrPath(configPath);
  const targetProblem = confinementProblem(
    configTarget,
    { pseudoFileSystems: pseudoFileSystems(new Map()), secretFiles: new Map() },
    (path) => probe.canRead(path),
  );
  if (targetProblem !== undefined) {
    throw configError(
      `config file ${configPath} resolves to ${configTarget}: ${targetProblem}`,
      `Keep the config in a directory the permission set grants, e.g. ${DEFAULT_CONFIG_PATH}`,
    );
  }
  const text = await readConfigText(configTarget, configPath);
  const lines = text === undefined ? undefined : parseEnvFile(text, configPath);
  const fileValues = new Map<string, { value: string; line: number }>();
  for (const line of lines ?? []) {
    if (line.key !== undefined) {
      fileValues.set(line.key, { value: line.value ?? "", line: line.number });
    }
  }
  const settings = mergeSettings(fileValues, env, configPath);
  registerSecret(settings.get("INSTALL_TOKEN")?.value);
  registerSecret(settings.get("SENSOR_TOKEN")?.value);
  const secretFiles = new Map([[configTarget, "the config file"]]);
  const tokenFile = settings.get("INSTALL_TOKEN_FILE");
  let installTokenFromFile: string | undefined;
  if (tokenFile !== undefined && !settings.has("INSTALL_TOKEN")) {
    const path = installTokenPath(tokenFile, probe, settings, secretFiles);
    installTokenFromFile = await readInstallTokenFile(tokenFile, path);
    registerSecret(installTokenFromFile);
    secretFiles.set(path, "the install-token file");
  }
  const resolved = resolveConfig(settings, configPath, probe, installTokenFromFile, secretFiles);
  const config = {
    ...resolved,
    configTarget,
    rewriteHazard: rewriteHazard(lines ?? [], configPath),
  };
  if (reloadable && tokenFile === undefined) loadedText.set(config, text);
  return config;
}

/** The env file's text each Config was made from (none read one from INSTALL_TOKEN_FILE). */
const loadedText = new WeakMap<Config, string | undefined>();

/**
 * The configuration as it stands now, for a caller that loaded `config` a moment ago with
 * loadConfig's defaults (enrollment's re-read under a config lock taken at once): `config` itself
 * when the env file still resolves where it did and holds the same text, else loaded afresh. The
 * environment is the same within a process and only the env file tells whether another agent
 * enrolled, so the path settings are not resolved and confined a second time. What they name can
 * change between the two loads only as it can a moment after either; a caller that waited (for
 * another agent's lock) loads afresh instead. A config whose install token came from
 * INSTALL_TOKEN_FILE is always loaded afresh: that file may have changed too.
 */
export async function reloadConfig(config: Config): Promise<Config> {
  if (loadedText.has(config) && targetOrPath(config.configPath) === config.configTarget) {
    const text = await readConfigText(config.configTarget, config.configPath);
    if (text === loadedText.get(config)) return config;
  }
  return await loadConfig(config.configPath);
}

/** Where INSTALL_TOKEN_FILE leads, allowed as named and where it leads; never the config file. */
function installTokenPath(
  setting: Setting,
  probe: PathProbe,
  settings: Settings,
  secretFiles: ReadonlyMap<string, string>,
): string {
  if (!probe.canRead(setting.value)) {
    throw configError(
      `INSTALL_TOKEN_FILE from ${setting.source} names ${setting.value}, which this build's permission set does not allow reading`,
      "Mount the secret inside the config directory or widen the read list in deno.json",
    );
  }
  const confines = { pseudoFileSystems: pseudoFileSystems(settings), secretFiles };
  return confinedPath("INSTALL_TOKEN_FILE", setting, probe, confines);
}
