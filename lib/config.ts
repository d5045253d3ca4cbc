// lib/config.ts: the agent's settings, from the config file and the process environment (contract
// section 2). Validation is pure; reading the file and the environment happens in loadConfig.
import { dirname } from "node:path";
import { configError } from "./errors.ts";
import { type EnvLine, parseEnvFile } from "./envfile.ts";
import type { HostRoots } from "./interfaces.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.ts";
import { registerSecret } from "./secrets.ts";
import { readSmallFile, UnfitFileError } from "./smallfile.ts";

/** Where the agent looks for its env file when neither --config nor SENSOR_AGENT_CONFIG says. */
export const DEFAULT_CONFIG_PATH = "/etc/ravenxcope/sensor-agent.env";

/** Every variable of contract section 2: the only ones the agent reads, from file or environment. */
export const CONFIG_KEYS = [
  "INSTALL_TOKEN",
  "INSTALL_TOKEN_FILE",
  "SENSOR_TOKEN",
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

/** A variable of contract section 2. */
export type ConfigKey = typeof CONFIG_KEYS[number];

/** A value and where it came from, so an error can name the place to fix. */
export interface Setting {
  readonly value: string;
  readonly source: string; // "the environment" or "<path> line <n>"
}

/** Settings by variable, after the merge of file and environment. */
export type Settings = ReadonlyMap<ConfigKey, Setting>;

/** The validated configuration every command works from. */
export interface Config {
  readonly configPath: string;
  readonly installToken?: string;
  readonly installTokenSource?: string;
  readonly sensorToken?: string;
  readonly backendUrl?: URL;
  readonly sensorId?: string;
  readonly sensorPort: number;
  readonly sensorIp?: string;
  readonly hostnameFile: string;
  readonly osReleaseFile: string;
  readonly machineIdFile: string;
  readonly roots: HostRoots;
  readonly backendCaFile?: string;
  readonly timeoutMs: number;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
}

/** What validation needs to know about the machine, kept behind an interface so it stays pure. */
export interface PathProbe {
  /** True when the permission set lets the agent read `path`. */
  canRead(path: string): boolean;
  /** True when `path` exists and may be looked at. */
  exists(path: string): boolean;
}

/**
 * Merges the file's assignments with the environment; the environment wins for every key
 * (contract section 2). Keys outside CONFIG_KEYS are ignored, so other tools may share the file.
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
      merged.set(key, { value: fromEnv, source: "the environment" });
    } else if (fromFile !== undefined && fromFile.value !== "") {
      merged.set(key, { value: fromFile.value, source: `${configPath} line ${fromFile.line}` });
    }
  }
  return merged;
}

/**
 * Validates merged settings into a Config, or throws the configuration error (78) that names the
 * variable and where it came from. The install token from INSTALL_TOKEN_FILE is read by the caller
 * and passed in, so this stays free of I/O.
 */
export function resolveConfig(
  settings: Settings,
  configPath: string,
  probe: PathProbe,
  installTokenFromFile?: string,
): Config {
  const get = (key: ConfigKey) => settings.get(key)?.value;
  const fail = (key: ConfigKey, problem: string, advice: string): never => {
    throw configError(`${key} from ${settings.get(key)?.source} ${problem}`, advice);
  };
  const readablePath = (key: ConfigKey, fallback: string): string => {
    const value = get(key);
    if (value === undefined) return fallback;
    if (!value.startsWith("/")) {
      fail(key, "is not an absolute path", `Set ${key} to an absolute path`);
    }
    if (!probe.canRead(value)) {
      fail(
        key,
        `names ${value}, which this build's permission set does not allow reading`,
        `Use a path the permission set allows, or widen its read list in deno.json`,
      );
    }
    return value;
  };

  if (get("INSTALL_TOKEN") !== undefined && get("INSTALL_TOKEN_FILE") !== undefined) {
    fail(
      "INSTALL_TOKEN_FILE",
      `is set together with INSTALL_TOKEN (from ${settings.get("INSTALL_TOKEN")?.source})`,
      "Set only one of INSTALL_TOKEN and INSTALL_TOKEN_FILE",
    );
  }
  const installToken = get("INSTALL_TOKEN") ?? installTokenFromFile;
  const installTokenKey = get("INSTALL_TOKEN") !== undefined
    ? "INSTALL_TOKEN"
    : "INSTALL_TOKEN_FILE";
  const logLevel = get("LOG_LEVEL") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    fail("LOG_LEVEL", `is "${logLevel}"`, `Set LOG_LEVEL to one of ${LOG_LEVELS.join(", ")}`);
  }
  const logFormat = get("LOG_FORMAT") ?? "text";
  if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) {
    fail("LOG_FORMAT", `is "${logFormat}"`, `Set LOG_FORMAT to one of ${LOG_FORMATS.join(", ")}`);
  }
  const sensorIp = get("SENSOR_IP");
  if (sensorIp !== undefined && !isIpAddress(sensorIp)) {
    fail(
      "SENSOR_IP",
      "is not an IPv4 or IPv6 address",
      "Set SENSOR_IP to the address Ansible should use",
    );
  }
  const proc = readablePath("HOST_PROC", probe.exists("/host/proc") ? "/host/proc" : "/proc");
  const sys = readablePath("HOST_SYS", probe.exists("/host/sys") ? "/host/sys" : "/sys");

  return {
    configPath,
    installToken,
    installTokenSource: installToken === undefined
      ? undefined
      : `${installTokenKey} from ${settings.get(installTokenKey)?.source}`,
    sensorToken: get("SENSOR_TOKEN"),
    backendUrl: parseBackendUrl(get("BACKEND_URL"), fail),
    sensorId: get("SENSOR_ID"),
    sensorPort: parsePort(get("SENSOR_PORT"), fail),
    sensorIp,
    hostnameFile: readablePath("HOST_HOSTNAME_FILE", "/host-hostname"),
    osReleaseFile: readablePath("HOST_OS_RELEASE_FILE", "/host-os-release"),
    machineIdFile: readablePath("HOST_MACHINE_ID_FILE", "/host-machine-id"),
    roots: { proc, sys },
    backendCaFile: get("BACKEND_CA_FILE") === undefined
      ? undefined
      : readablePath("BACKEND_CA_FILE", ""),
    timeoutMs: parseTimeout(get("BACKEND_TIMEOUT_SECONDS"), fail),
    logFormat: logFormat as LogFormat,
    logLevel: logLevel as LogLevel,
  };
}

type Fail = (key: ConfigKey, problem: string, advice: string) => never;

function parseBackendUrl(value: string | undefined, fail: Fail): URL | undefined {
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

function parsePort(value: string | undefined, fail: Fail): number {
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

function parseTimeout(value: string | undefined, fail: Fail): number {
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

const MAX_CONFIG_BYTES = 64 * 1024;

/**
 * Reads and parses the env file, or returns undefined when it does not exist yet (a container may
 * configure everything through the environment). Anything else that is wrong with it is a 78.
 */
export async function readConfigFile(path: string): Promise<EnvLine[] | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readSmallFile(path, MAX_CONFIG_BYTES);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof UnfitFileError) {
      const advice = error.reason === "too large"
        ? "Point --config at the agent's env file"
        : "Point --config at a regular file";
      throw configError(`config file ${path} ${error.message}`, advice);
    }
    throw configError(`cannot read config file ${path}: ${describe(error)}`, fixAccessAdvice(path));
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw configError(
      `config file ${path} is not UTF-8 text`,
      "Point --config at the agent's env file",
    );
  }
  if (text.includes("\0")) {
    throw configError(
      `config file ${path} contains NUL bytes`,
      "Point --config at the agent's env file",
    );
  }
  return parseEnvFile(text, path);
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

/** The probe of the running process: Deno's permission state and the file system. */
export const processProbe: PathProbe = {
  canRead: (path) => Deno.permissions.querySync({ name: "read", path }).state === "granted",
  exists: (path) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  },
};

/**
 * Loads the configuration: the file (if any) merged with the environment, validated, with every
 * token registered for redaction before anything can print it.
 */
export async function loadConfig(
  configPath: string,
  env: Readonly<Record<string, string | undefined>> = readEnvironment(),
  probe: PathProbe = processProbe,
): Promise<Config> {
  if (!probe.canRead(configPath)) {
    throw configError(
      `config file ${configPath} is outside what this build's permission set may read`,
      `Use the default ${DEFAULT_CONFIG_PATH} or widen the read and write lists in deno.json`,
    );
  }
  const lines = await readConfigFile(configPath);
  const fileValues = new Map<string, { value: string; line: number }>();
  for (const line of lines ?? []) {
    if (line.key !== undefined) {
      fileValues.set(line.key, { value: line.value ?? "", line: line.number });
    }
  }
  const settings = mergeSettings(fileValues, env, configPath);
  registerSecret(settings.get("INSTALL_TOKEN")?.value);
  registerSecret(settings.get("SENSOR_TOKEN")?.value);
  const tokenFile = settings.get("INSTALL_TOKEN_FILE");
  let installTokenFromFile: string | undefined;
  if (tokenFile !== undefined && !settings.has("INSTALL_TOKEN")) {
    installTokenFromFile = await readInstallTokenFile(tokenFile, probe);
    registerSecret(installTokenFromFile);
  }
  return resolveConfig(settings, configPath, probe, installTokenFromFile);
}

async function readInstallTokenFile(
  setting: Setting,
  probe: PathProbe,
): Promise<string | undefined> {
  const where = `INSTALL_TOKEN_FILE from ${setting.source}`;
  if (!probe.canRead(setting.value)) {
    throw configError(
      `${where} names ${setting.value}, which this build's permission set does not allow reading`,
      "Mount the secret inside the config directory or widen the read list in deno.json",
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readSmallFile(setting.value, MAX_CONFIG_BYTES);
  } catch (error) {
    if (error instanceof UnfitFileError) {
      throw configError(
        `${where} names ${setting.value}, which ${error.message}`,
        "Point INSTALL_TOKEN_FILE at the file that holds the install token",
      );
    }
    throw configError(
      `${where}: cannot read ${setting.value}: ${describe(error)}`,
      fixAccessAdvice(setting.value),
    );
  }
  const token = new TextDecoder().decode(bytes).trimEnd();
  return token === "" ? undefined : token;
}

function fixAccessAdvice(path: string): string {
  return `Check that ${path} exists and that the agent's user may read it (and its directory ${
    dirname(path)
  })`;
}

/** A short reason for an I/O error: its class and message, never file contents. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
