// tests/config/config_test.ts: merging the config file with the environment and validating the
// result (docs/configuration.md), without I/O: the file's values are given as a map and the machine
// as a fake PathProbe.

import assert from "node:assert/strict";
import fc from "fast-check";
import { resolveConfig } from "../../lib/config/resolve.ts";
import {
  CONFIG_KEYS,
  type ConfigKey,
  mergeSettings,
  type Settings,
} from "../../lib/config/settings.ts";
import { isIpAddress } from "../../lib/config/values.ts";
import type { PathProbe } from "../../lib/store/mod.ts";
import { AgentError } from "../../lib/errors.ts";

const CONFIG_PATH = "/etc/ravenxcope/sensor-agent.env";

/** A machine where every path may be read and nothing exists (so defaults fall back to /proc). */
const permissive: PathProbe = {
  canRead: () => true,
  exists: () => false,
  realPath: (path) => path,
  stat: () => undefined,
};

/** A probe that allows reading only the listed paths and says only `existing` exist. */
function probe(readable: string[] | "all", existing: string[] = []): PathProbe {
  return {
    canRead: (path) => readable === "all" || readable.includes(path),
    exists: (path) => existing.includes(path),
    realPath: (path) => path,
    stat: () => undefined,
  };
}

/** Settings as they come from the file, one key per line, numbered from 1. */
function fromFile(values: Partial<Record<ConfigKey, string>>): Settings {
  const lines = new Map(
    Object.entries(values).map(([key, value], i) => [key, { value: value!, line: i + 1 }]),
  );
  return mergeSettings(lines, {}, CONFIG_PATH);
}

/** Settings as they come from the process environment. */
function fromEnv(values: Partial<Record<ConfigKey, string>>): Settings {
  return mergeSettings(new Map(), values, CONFIG_PATH);
}

/** The configuration error resolveConfig throws; fails the test when it returns or throws another. */
function configFailure(settings: Settings, checkProbe: PathProbe = permissive): AgentError {
  try {
    resolveConfig(settings, CONFIG_PATH, checkProbe);
  } catch (error) {
    assert.ok(error instanceof AgentError, `not an AgentError: ${error}`);
    assert.equal(error.exitCode, 78);
    assert.notEqual(error.advice, "");
    return error;
  }
  assert.fail("resolveConfig accepted the settings");
}

// --- mergeSettings

Deno.test("config: the environment wins over the file for every key", () => {
  const file = new Map(CONFIG_KEYS.map((key, i) => [key, { value: `file-${key}`, line: i + 1 }]));
  const env = Object.fromEntries(CONFIG_KEYS.map((key) => [key, `env-${key}`]));
  const merged = mergeSettings(file, env, CONFIG_PATH);
  assert.equal(merged.size, CONFIG_KEYS.length);
  for (const key of CONFIG_KEYS) {
    assert.deepEqual(merged.get(key), { value: `env-${key}`, source: "the environment" }, key);
  }
});

Deno.test("config: a file value is used when the environment lacks it, sourced '<path> line <n>'", () => {
  const file = new Map([["SENSOR_ID", { value: "sensor-1", line: 7 }]]);
  const merged = mergeSettings(file, { BACKEND_URL: "https://b.example" }, "/tmp/agent.env");
  assert.deepEqual(merged.get("SENSOR_ID"), { value: "sensor-1", source: "/tmp/agent.env line 7" });
  assert.deepEqual(merged.get("BACKEND_URL"), {
    value: "https://b.example",
    source: "the environment",
  });
});

Deno.test("config: an empty environment value is unset, so the file's value is used", () => {
  const file = new Map([["SENSOR_PORT", { value: "2222", line: 3 }]]);
  const merged = mergeSettings(file, { SENSOR_PORT: "" }, CONFIG_PATH);
  assert.deepEqual(merged.get("SENSOR_PORT"), {
    value: "2222",
    source: `${CONFIG_PATH} line 3`,
  });
});

Deno.test("config: an empty value in both places leaves the key unset", () => {
  const file = new Map([["SENSOR_PORT", { value: "", line: 1 }]]);
  const merged = mergeSettings(file, { SENSOR_PORT: "", LOG_LEVEL: "" }, CONFIG_PATH);
  assert.equal(merged.has("SENSOR_PORT"), false);
  assert.equal(merged.has("LOG_LEVEL"), false);
});

Deno.test("config: keys outside the contract's variables are ignored", () => {
  const file = new Map([["OTHER_TOOL", { value: "x", line: 1 }]]);
  const merged = mergeSettings(file, { PATH: "/usr/bin", HOME: "/root" }, CONFIG_PATH);
  assert.equal(merged.size, 0);
});

Deno.test("config: an empty SENSOR_PORT falls back to the default 22", () => {
  assert.equal(resolveConfig(fromEnv({ SENSOR_PORT: "" }), CONFIG_PATH, permissive).sensorPort, 22);
});

// --- defaults

Deno.test("config: defaults when nothing is set (port 22, 30 s, text, info, /host-* files)", () => {
  const config = resolveConfig(new Map(), CONFIG_PATH, permissive);
  assert.equal(config.configPath, CONFIG_PATH);
  assert.equal(config.sensorPort, 22);
  assert.equal(config.timeoutMs, 30_000);
  assert.equal(config.logFormat, "text");
  assert.equal(config.logLevel, "info");
  assert.equal(config.hostnameFile, "/host-hostname");
  assert.equal(config.osReleaseFile, "/host-os-release");
  assert.equal(config.machineIdFile, "/host-machine-id");
  assert.equal(config.installToken, undefined);
  assert.equal(config.sensorToken, undefined);
  assert.equal(config.backendUrl, undefined);
  assert.equal(config.sensorIp, undefined);
  assert.equal(config.backendCaFile, undefined);
});

Deno.test("config: HOST_PROC defaults to /host/proc where /host/proc/net/dev exists", () => {
  const config = resolveConfig(new Map(), CONFIG_PATH, probe("all", ["/host/proc/net/dev"]));
  assert.deepEqual(config.roots, { proc: "/host/proc", sys: "/sys" });
});

Deno.test("config: HOST_SYS defaults to /host/sys where /host/sys/class/net exists", () => {
  const config = resolveConfig(new Map(), CONFIG_PATH, probe("all", ["/host/sys/class/net"]));
  assert.deepEqual(config.roots, { proc: "/proc", sys: "/host/sys" });
});

Deno.test("config: without /host/proc and /host/sys the roots are /proc and /sys", () => {
  const config = resolveConfig(new Map(), CONFIG_PATH, probe("all", []));
  assert.deepEqual(config.roots, { proc: "/proc", sys: "/sys" });
});

Deno.test("config: HOST_PROC and HOST_SYS, when set, win over /host/*", () => {
  const config = resolveConfig(
    fromEnv({ HOST_PROC: "/mnt/proc", HOST_SYS: "/mnt/sys" }),
    CONFIG_PATH,
    probe("all", ["/host/proc", "/host/sys"]),
  );
  assert.deepEqual(config.roots, { proc: "/mnt/proc", sys: "/mnt/sys" });
});

// --- valid values

Deno.test("config: valid values are taken as given", () => {
  const config = resolveConfig(
    fromFile({
      INSTALL_TOKEN: "install-abc",
      SENSOR_TOKEN: "sensor-abc",
      BACKEND_URL: "https://backend.example:5009/ravenx",
      SENSOR_ID: "sensor 1 (rack B)",
      SENSOR_PORT: "2222",
      SENSOR_IP: "192.0.2.10",
      HOST_HOSTNAME_FILE: "/h/hostname",
      HOST_OS_RELEASE_FILE: "/h/os-release",
      HOST_MACHINE_ID_FILE: "/h/machine-id",
      BACKEND_CA_FILE: "/h/ca.pem",
      BACKEND_TIMEOUT_SECONDS: "2.5",
      LOG_FORMAT: "json",
      LOG_LEVEL: "debug",
    }),
    CONFIG_PATH,
    permissive,
  );
  assert.equal(config.installToken, "install-abc");
  assert.equal(config.installTokenSource, `INSTALL_TOKEN from ${CONFIG_PATH} line 1`);
  assert.equal(config.sensorToken, "sensor-abc");
  assert.equal(config.backendUrl?.href, "https://backend.example:5009/ravenx");
  assert.equal(config.sensorId, "sensor 1 (rack B)");
  assert.equal(config.sensorPort, 2222);
  assert.equal(config.sensorIp, "192.0.2.10");
  assert.equal(config.hostnameFile, "/h/hostname");
  assert.equal(config.osReleaseFile, "/h/os-release");
  assert.equal(config.machineIdFile, "/h/machine-id");
  assert.equal(config.backendCaFile, "/h/ca.pem");
  assert.equal(config.timeoutMs, 2500);
  assert.equal(config.logFormat, "json");
  assert.equal(config.logLevel, "debug");
});

Deno.test("config: an http:// BACKEND_URL is accepted", () => {
  const config = resolveConfig(
    fromEnv({ BACKEND_URL: "http://10.10.10.70:5009" }),
    "/c",
    permissive,
  );
  assert.equal(config.backendUrl?.protocol, "http:");
});

Deno.test("config: SENSOR_PORT 1 and 65535 are the accepted bounds", () => {
  for (const port of [1, 65535]) {
    const config = resolveConfig(fromEnv({ SENSOR_PORT: String(port) }), CONFIG_PATH, permissive);
    assert.equal(config.sensorPort, port);
  }
});

Deno.test("config: BACKEND_TIMEOUT_SECONDS is seconds, up to 3600", () => {
  for (const [seconds, ms] of [["1", 1000], ["0.5", 500], ["3600", 3_600_000]] as const) {
    const config = resolveConfig(
      fromEnv({ BACKEND_TIMEOUT_SECONDS: seconds }),
      CONFIG_PATH,
      permissive,
    );
    assert.equal(config.timeoutMs, ms, seconds);
  }
});

Deno.test("config: the install token from INSTALL_TOKEN_FILE is used and sourced to that variable", () => {
  const config = resolveConfig(
    fromEnv({ INSTALL_TOKEN_FILE: "/run/secrets/install" }),
    CONFIG_PATH,
    permissive,
    "install-from-file",
  );
  assert.equal(config.installToken, "install-from-file");
  assert.equal(config.installTokenSource, "INSTALL_TOKEN_FILE from the environment");
});

// --- malformed values: 78, naming the variable and where it came from

/** [what, key, value, a fragment the message must hold]. Each value sits on line 1 of the file. */
const malformed: [string, ConfigKey, string, RegExp][] = [
  ["BACKEND_URL with another scheme", "BACKEND_URL", "ftp://backend.example", /ftp:/],
  ["BACKEND_URL that is not a URL", "BACKEND_URL", "backend.example", /not a URL/],
  ["BACKEND_URL with white space", "BACKEND_URL", "https://backend .example", /white space/],
  ["BACKEND_URL with credentials", "BACKEND_URL", "https://u:hunter2@b.example", /credentials/],
  ["BACKEND_URL with a user name only", "BACKEND_URL", "https://tok3n@b.example", /credentials/],
  ["BACKEND_URL with a query", "BACKEND_URL", "https://b.example/?x=1", /query/],
  ["BACKEND_URL with a fragment", "BACKEND_URL", "https://b.example/#x", /fragment/],
  ["SENSOR_PORT 0", "SENSOR_PORT", "0", /1 to 65535/],
  ["SENSOR_PORT 65536", "SENSOR_PORT", "65536", /1 to 65535/],
  ["SENSOR_PORT -1", "SENSOR_PORT", "-1", /1 to 65535/],
  ["SENSOR_PORT with letters", "SENSOR_PORT", "22a", /1 to 65535/],
  ["SENSOR_PORT with a fraction", "SENSOR_PORT", "22.5", /1 to 65535/],
  ["SENSOR_IP that is a host name", "SENSOR_IP", "sensor.example", /not an IPv4 or IPv6/],
  ["SENSOR_IP out of range", "SENSOR_IP", "192.168.1.256", /not an IPv4 or IPv6/],
  ["BACKEND_TIMEOUT_SECONDS 0", "BACKEND_TIMEOUT_SECONDS", "0", /above 0/],
  ["BACKEND_TIMEOUT_SECONDS negative", "BACKEND_TIMEOUT_SECONDS", "-5", /above 0/],
  ["BACKEND_TIMEOUT_SECONDS not a number", "BACKEND_TIMEOUT_SECONDS", "soon", /above 0/],
  ["BACKEND_TIMEOUT_SECONDS above 3600", "BACKEND_TIMEOUT_SECONDS", "3601", /at most 3600/],
  ["LOG_LEVEL outside the list", "LOG_LEVEL", "verbose", /"verbose"/],
  ["LOG_LEVEL in capitals", "LOG_LEVEL", "INFO", /"INFO"/],
  ["LOG_FORMAT outside the list", "LOG_FORMAT", "xml", /"xml"/],
  ["HOST_PROC that is relative", "HOST_PROC", "host/proc", /absolute path/],
  ["HOST_SYS that is relative", "HOST_SYS", "./sys", /absolute path/],
  ["HOST_HOSTNAME_FILE that is relative", "HOST_HOSTNAME_FILE", "hostname", /absolute path/],
  ["BACKEND_CA_FILE that is relative", "BACKEND_CA_FILE", "ca.pem", /absolute path/],
  ["SENSOR_HOST_BINDING in capitals", "SENSOR_HOST_BINDING", "AB".repeat(32), /64 lowercase hex/],
  ["SENSOR_HOST_BINDING cut short", "SENSOR_HOST_BINDING", "ab".repeat(31), /64 lowercase hex/],
];
for (const [what, key, value, fragment] of malformed) {
  Deno.test(`config: ${what} is a 78 naming ${key} and its file line`, () => {
    const error = configFailure(fromFile({ [key]: value }));
    assert.ok(
      error.message.startsWith(`${key} from ${CONFIG_PATH} line 1 `),
      `message: ${error.message}`,
    );
    assert.match(error.message, fragment);
  });
}

Deno.test("config: a host binding is taken as written; the token's home is the file or the environment", () => {
  const binding = "0f".repeat(32);
  const inFile = resolveConfig(
    fromFile({ SENSOR_TOKEN: "sensor-token-1", SENSOR_HOST_BINDING: binding }),
    CONFIG_PATH,
    permissive,
  );
  assert.equal(inFile.hostBinding, binding);
  assert.equal(inFile.sensorTokenInFile, true);
  const inEnv = resolveConfig(fromEnv({ SENSOR_TOKEN: "sensor-token-1" }), CONFIG_PATH, permissive);
  assert.equal(inEnv.sensorTokenInFile, false);
  assert.equal(resolveConfig(new Map(), CONFIG_PATH, permissive).sensorTokenInFile, false);
});

Deno.test("config: a malformed value from the environment names 'the environment'", () => {
  const error = configFailure(fromEnv({ SENSOR_PORT: "99999" }));
  assert.ok(error.message.startsWith("SENSOR_PORT from the environment "), error.message);
});

Deno.test("config: BACKEND_URL credentials are not repeated in the error", () => {
  const error = configFailure(fromEnv({ BACKEND_URL: "https://admin:hunter2@b.example" }));
  assert.ok(!`${error.message} ${error.advice}`.includes("hunter2"));
});

Deno.test("config: INSTALL_TOKEN and INSTALL_TOKEN_FILE together are a 78 naming both sources", () => {
  const settings = mergeSettings(
    new Map([["INSTALL_TOKEN", { value: "install-abc", line: 4 }]]),
    { INSTALL_TOKEN_FILE: "/run/secrets/install" },
    CONFIG_PATH,
  );
  const error = configFailure(settings);
  assert.match(error.message, /^INSTALL_TOKEN_FILE from the environment /);
  assert.ok(error.message.includes(`INSTALL_TOKEN (from ${CONFIG_PATH} line 4)`), error.message);
  assert.ok(!error.message.includes("install-abc"), "the token is not quoted");
});

/** The path variables that must be readable under the build's permission set. */
const pathKeys: ConfigKey[] = [
  "HOST_PROC",
  "HOST_SYS",
  "HOST_HOSTNAME_FILE",
  "HOST_OS_RELEASE_FILE",
  "HOST_MACHINE_ID_FILE",
  "BACKEND_CA_FILE",
];
for (const key of pathKeys) {
  Deno.test(`config: a ${key} the permission set does not allow reading is a 78`, () => {
    const error = configFailure(fromEnv({ [key]: "/not/allowed" }), probe(["/allowed"]));
    assert.ok(error.message.startsWith(`${key} from the environment `), error.message);
    assert.match(error.message, /\/not\/allowed.*permission set/);
  });
}

Deno.test("config: a readable path passes the same probe that refuses another", () => {
  const config = resolveConfig(
    fromEnv({ HOST_PROC: "/allowed" }),
    CONFIG_PATH,
    probe(["/allowed/net/dev"]),
  );
  assert.equal(config.roots.proc, "/allowed");
});

// --- property: any value either validates or is a 78 about that very key

Deno.test("property: resolveConfig returns or throws a 78 naming the key, for any value of any key", () => {
  const value = fc.oneof(
    fc.string({ unit: "binary", minLength: 1 }),
    fc.string({ unit: fc.constantFrom(..."0123456789.:-/[]%@ abfhtpsx"), minLength: 1 }),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.ipV4(),
    fc.ipV6(),
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...CONFIG_KEYS),
      value,
      fc.boolean(),
      fc.boolean(),
      (key, text, readable, fromEnvironment) => {
        const settings = fromEnvironment ? fromEnv({ [key]: text }) : fromFile({ [key]: text });
        const source = fromEnvironment ? "the environment" : `${CONFIG_PATH} line 1`;
        try {
          resolveConfig(settings, CONFIG_PATH, {
            canRead: () => readable,
            exists: () => false,
            realPath: (path) => path,
            stat: () => undefined,
          });
        } catch (error) {
          if (!(error instanceof AgentError)) throw new Error(`${key}=${text}: ${error}`);
          assert.equal(error.exitCode, 78);
          assert.ok(error.message.startsWith(`${key} from ${source} `), error.message);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

// --- isIpAddress

Deno.test("ip: dotted IPv4 addresses from 0.0.0.0 to 255.255.255.255 are addresses", () => {
  for (const ip of ["0.0.0.0", "192.168.1.100", "10.0.0.1", "255.255.255.255"]) {
    assert.equal(isIpAddress(ip), true, ip);
  }
});

Deno.test("ip: IPv6 addresses, compressed, full and v4-mapped, are addresses", () => {
  for (const ip of ["::1", "fe80::1", "2001:db8::10", "1:2:3:4:5:6:7:8", "::ffff:192.0.2.1"]) {
    assert.equal(isIpAddress(ip), true, ip);
  }
});

Deno.test("ip: host names, bad octets, brackets, ports and junk are not addresses", () => {
  for (
    const text of [
      "",
      "localhost",
      "sensor.example",
      "256.1.1.1",
      "1.2.3",
      "1.2.3.4.5",
      "1.2.3.4 ",
      " 1.2.3.4",
      "1.2.3.4\n",
      "1.2.3.4:22",
      "[::1]",
      "::1::2",
      "12345::1",
      ":",
      "gggg::1",
    ]
  ) {
    assert.equal(isIpAddress(text), false, JSON.stringify(text));
  }
});

Deno.test({
  name: "ip: text after a closing bracket is not an IPv6 address",
  fn: () => {
    for (const text of ["::1]/x", "::1]:80/[::1", "::1]#x", "2001:db8::1]?q"]) {
      assert.equal(isIpAddress(text), false, JSON.stringify(text));
    }
  },
});

Deno.test("ip: an IPv4 part with a leading zero is refused (octal in some tools)", () => {
  assert.equal(isIpAddress("010.0.0.1"), false);
  assert.equal(isIpAddress("10.0.0.01"), false);
  assert.equal(isIpAddress("10.0.0.0"), true);
});
