// The reference backend as a process (reference-backend/main.ts, settings.ts, launch.ts): it
// refuses to start without what it needs, in one line and exit 78; it is granted exactly what
// `deno task backend` grants; SIGTERM stops it; it says when it runs without its proxy; and its
// settings are checked (in process, at the end).
import assert from "node:assert/strict";
import { backendPermissionFlags } from "../../reference-backend/launch.ts";
import { readSettings, SettingsError } from "../../reference-backend/settings.ts";
import { PROJECT } from "../support/agent.ts";
import { keptEnv } from "../support/env.ts";
import { startRefBackend } from "../support/refbackend.ts";

Deno.test("backend: refuses to start without ADMIN_TOKEN, in one line, exit 78", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--no-prompt",
      "--unstable-kv",
      ...backendPermissionFlags("/nonexistent"),
      `${PROJECT}/reference-backend/main.ts`,
    ],
    env: { PORT: "0", NO_COLOR: "1", ...keptEnv() },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 78);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.match(stderr, /^error: ADMIN_TOKEN is not set.*Set it to a long random secret/);
});

Deno.test("backend: `deno task backend` grants what the launcher grants, for .backend-data", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${PROJECT}/deno.json`));
  const task = (config.tasks.backend as string).split(" ");
  assert.deepEqual(task.slice(0, 4), ["deno", "run", "-q", "--unstable-kv"]);
  assert.deepEqual(task.slice(4, -1), backendPermissionFlags(".backend-data"));
  assert.equal(task.at(-1), "reference-backend/main.ts");
  // Read: the store, and the two files the install command downloads; nothing else.
  assert.ok(
    task.includes("--allow-read=.backend-data,deploy/install.sh,deploy/sensor-agent.service"),
  );
  assert.ok(task.includes("--allow-write=.backend-data"));
});

Deno.test("backend: SIGTERM stops it with exit 0", async () => {
  const backend = await startRefBackend();
  const { code, output } = await backend.stop();
  await backend[Symbol.asyncDispose]();
  assert.equal(code, 0, output);
  assert.match(output, /stopped by a signal/);
});

Deno.test("backend alone: it says at start, in one line, that it is a development mode without the proxy's protections", async () => {
  await using backend = await startRefBackend();
  const lines = backend.output().split("\n").filter((line) => /development mode/.test(line));
  assert.equal(lines.length, 1, backend.output());
  assert.match(lines[0], /WARN .*TRUSTED_PROXIES.*reverse proxy.*deploy\/backend/);
});

Deno.test("settings: ADMIN_TOKEN is required and long; defaults for the rest", () => {
  const from = (env: Record<string, string>) => () => readSettings((name) => env[name]);
  assert.throws(from({}), SettingsError);
  assert.throws(from({ ADMIN_TOKEN: "short" }), /at least 16 characters/);
  const settings = readSettings((name) =>
    ({ ADMIN_TOKEN: "0123456789abcdef", DEV_INSECURE_HTTP: "1" } as Record<string, string>)[name]
  );
  assert.equal(settings.port, 5009);
  assert.equal(settings.data, "./.backend-data");
  assert.equal(settings.heartbeatIntervalSeconds, 30);
  assert.equal(settings.publicUrl, undefined);
  assert.equal(settings.insecureHttp, true);
  assert.deepEqual(settings.trustedProxies, new Set());
  assert.deepEqual(settings.enrollFailures, { limit: 10, windowMs: 600_000 });
  const admin = { ADMIN_TOKEN: "0123456789abcdef", DEV_INSECURE_HTTP: "1" };
  assert.throws(from({ ...admin, PORT: "65536" }), /PORT must be a whole number/);
  assert.throws(from({ ...admin, HEARTBEAT_INTERVAL_SECONDS: "0" }), /HEARTBEAT_INTERVAL_SECONDS/);
  assert.throws(from({ ...admin, PUBLIC_URL: "ftp://x" }), /PUBLIC_URL/);
  assert.throws(from({ ...admin, PUBLIC_URL: "https://u:p@x" }), /without credentials/);
  // What the agent and install.sh would refuse as BACKEND_URL.
  for (const url of ["https://x/?a=1", "https://x/#top", "https://x/it's"]) {
    assert.throws(from({ ...admin, PUBLIC_URL: url }), /query, a fragment or a single quote/, url);
  }
  assert.equal(
    readSettings((name) =>
      ({ ...admin, PUBLIC_URL: "https://x:8443/rx/" } as Record<string, string>)[name]
    ).publicUrl,
    "https://x:8443/rx",
  );
});

Deno.test("settings: AGENT_BINARY_URL and AGENT_BINARY_SHA256 go together, checked", () => {
  const admin = { ADMIN_TOKEN: "0123456789abcdef", PUBLIC_URL: "https://rx.example" };
  const read = (env: Record<string, string>) =>
    readSettings((name) => ({ ...admin, ...env } as Record<string, string>)[name]);
  const sha256 = "0123456789ABCDEF".repeat(4);
  assert.equal(read({}).agentBinary, undefined);
  assert.deepEqual(
    read({ AGENT_BINARY_URL: "https://dl.example/agent", AGENT_BINARY_SHA256: sha256 }).agentBinary,
    {
      url: "https://dl.example/agent",
      sha256: sha256.toLowerCase(),
    },
  );
  const refused: [Record<string, string>, RegExp][] = [
    [{ AGENT_BINARY_URL: "https://dl.example/agent" }, /without AGENT_BINARY_SHA256/],
    [{ AGENT_BINARY_SHA256: sha256 }, /without AGENT_BINARY_URL/],
    [
      { AGENT_BINARY_URL: "ftp://dl.example/a", AGENT_BINARY_SHA256: sha256 },
      /http:\/\/ or https:\/\//,
    ],
    [{ AGENT_BINARY_URL: "dl.example/a", AGENT_BINARY_SHA256: sha256 }, /absolute/],
    [
      { AGENT_BINARY_URL: "https://u:p@dl.example/a", AGENT_BINARY_SHA256: sha256 },
      /without credentials/,
    ],
    [
      { AGENT_BINARY_URL: "https://dl.example/a", AGENT_BINARY_SHA256: sha256.slice(1) },
      /64 hex digits/,
    ],
    [
      { AGENT_BINARY_URL: "https://dl.example/a", AGENT_BINARY_SHA256: `${sha256.slice(1)}g` },
      /64 hex digits/,
    ],
  ];
  for (const [env, reason] of refused) {
    assert.throws(() => read(env), SettingsError, JSON.stringify(env));
    assert.throws(() => read(env), reason, JSON.stringify(env));
  }
});

Deno.test("settings: SENSOR_TOKEN_MAX_AGE_DAYS is 90 days unless set; 0 means never; a whole number up to 3650", () => {
  const admin = { ADMIN_TOKEN: "0123456789abcdef", DEV_INSECURE_HTTP: "1" };
  const read = (env: Record<string, string>) =>
    readSettings((name) => ({ ...admin, ...env } as Record<string, string>)[name]);
  assert.equal(read({}).sensorTokenMaxAgeDays, 90);
  assert.equal(read({ SENSOR_TOKEN_MAX_AGE_DAYS: "" }).sensorTokenMaxAgeDays, 90);
  assert.equal(read({ SENSOR_TOKEN_MAX_AGE_DAYS: "0" }).sensorTokenMaxAgeDays, 0);
  assert.equal(read({ SENSOR_TOKEN_MAX_AGE_DAYS: "3650" }).sensorTokenMaxAgeDays, 3650);
  for (const value of ["3651", "-1", "30d", "1.5", " 7"]) {
    assert.throws(
      () => read({ SENSOR_TOKEN_MAX_AGE_DAYS: value }),
      (error) =>
        error instanceof SettingsError &&
        error.message === "SENSOR_TOKEN_MAX_AGE_DAYS must be a whole number from 0 to 3650",
      value,
    );
  }
});
