// lib/config/resolve.ts: the validated configuration every command works from
// (docs/configuration.md), made from merged settings: each value checked, each path setting
// resolved and confined (confinement.ts). Pure: the machine is seen through a PathProbe, and
// load.ts does the reading.
import { normalize } from "../paths.ts";
import { confinedPath, type Confines, pseudoFileSystems } from "./confinement.ts";
import { filesUnder, type HostRoots, type RootKey, rootProblem } from "./hostroots.ts";
import { configError } from "../errors.ts";
import type { PathProbe } from "../store/mod.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../log.ts";
import { type ConfigKey, FROM_ENVIRONMENT, type Settings } from "./settings.ts";
import {
  isIpAddress,
  parseBackendUrl,
  parseHostBinding,
  parsePort,
  parseTimeout,
} from "./values.ts";

/** The validated configuration every command works from. */
export interface Config {
  readonly configPath: string;
  /** Where the config file really is, every link followed: the file read and rewritten. */
  readonly configTarget: string;
  /** Why rewriting the file could make some reader see another SENSOR_TOKEN (envfile.ts). */
  readonly rewriteHazard?: string;
  readonly installToken?: string;
  readonly installTokenSource?: string;
  readonly sensorToken?: string;
  /**
   * True when SENSOR_TOKEN comes from the config file, where a new token can be saved (a rotation)
   * for the next start to read; false when the environment sets it, or it is not set.
   */
  readonly sensorTokenInFile: boolean;
  /** SENSOR_HOST_BINDING: the binding of the host the token was issued to, when saved. */
  readonly hostBinding?: string;
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

/**
 * Validates merged settings into a Config, or throws the configuration error (78) that names the
 * variable and where it came from. I/O stays with the caller: the install token from
 * INSTALL_TOKEN_FILE is passed in, the machine is seen through `probe`, and `secretFiles` are the
 * resolved config and install-token files, where no other path setting may lead.
 */
export function resolveConfig(
  settings: Settings,
  configPath: string,
  probe: PathProbe,
  installTokenFromFile?: string,
  secretFiles: ReadonlyMap<string, string> = new Map(),
): Config {
  const get = (key: ConfigKey) => settings.get(key)?.value;
  const fail = (key: ConfigKey, problem: string, advice: string): never => {
    throw configError(`${key} from ${settings.get(key)?.source} ${problem}`, advice);
  };
  const grantAdvice = "Use a path the permission set allows, or widen its read list in deno.json";
  const absolute = (key: ConfigKey): string | undefined => {
    const value = get(key);
    if (value !== undefined && !value.startsWith("/")) {
      fail(key, "is not an absolute path", `Set ${key} to an absolute path`);
    }
    return value;
  };
  const confines: Confines = { pseudoFileSystems: pseudoFileSystems(settings), secretFiles };
  // A file setting: allowed as named, then followed to where it leads and allowed there too.
  const file = (key: ConfigKey, fallback: string): string => {
    const value = absolute(key);
    if (value !== undefined && !probe.canRead(value)) {
      fail(
        key,
        `names ${value}, which this build's permission set does not allow reading`,
        grantAdvice,
      );
    }
    // A default the permission set does not grant cannot be read at all: nothing to confine.
    if (value === undefined && !probe.canRead(fallback)) return fallback;
    const setting = settings.get(key) ?? { value: fallback, source: "the default" };
    return confinedPath(key, setting, probe, confines);
  };
  // A root: judged by the files under it that the agent reads (hostroots.ts), set or default.
  const root = (key: RootKey, host: string, own: string): string => {
    const value = absolute(key);
    const chosen = value !== undefined
      ? normalize(value)
      : probe.exists(filesUnder(key, host)[0].path)
      ? host
      : own;
    const problem = rootProblem(key, chosen, probe);
    if (problem === undefined) return chosen;
    const setting = settings.get(key) ?? { value: chosen, source: "the default" };
    throw configError(
      `${key} from ${setting.source} names ${setting.value}: ${problem}`,
      `Point ${key} at the host's ${
        key === "HOST_PROC" ? "/proc" : "/sys"
      } mounted where the permission set grants its files (${host} in the shipped set), or leave it unset`,
    );
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

  return {
    configPath,
    configTarget: configPath,
    installToken,
    installTokenSource: installToken === undefined
      ? undefined
      : `${installTokenKey} from ${settings.get(installTokenKey)?.source}`,
    sensorToken: get("SENSOR_TOKEN"),
    sensorTokenInFile:
      (settings.get("SENSOR_TOKEN")?.source ?? FROM_ENVIRONMENT) !== FROM_ENVIRONMENT,
    hostBinding: parseHostBinding(get("SENSOR_HOST_BINDING"), fail),
    backendUrl: parseBackendUrl(get("BACKEND_URL"), fail),
    sensorId: get("SENSOR_ID"),
    sensorPort: parsePort(get("SENSOR_PORT"), fail),
    sensorIp,
    hostnameFile: file("HOST_HOSTNAME_FILE", "/host-hostname"),
    osReleaseFile: file("HOST_OS_RELEASE_FILE", "/host-os-release"),
    machineIdFile: file("HOST_MACHINE_ID_FILE", "/host-machine-id"),
    roots: {
      proc: root("HOST_PROC", "/host/proc", "/proc"),
      sys: root("HOST_SYS", "/host/sys", "/sys"),
    },
    backendCaFile: get("BACKEND_CA_FILE") === undefined ? undefined : file("BACKEND_CA_FILE", ""),
    timeoutMs: parseTimeout(get("BACKEND_TIMEOUT_SECONDS"), fail),
    logFormat: logFormat as LogFormat,
    logLevel: logLevel as LogLevel,
  };
}
