// The shipped permission set, proven: under `-P=agent` the agent is refused the six first moves of
// an attacker, and in the container's layout (bubblewrap standing in for Docker, which has no
// engine here) it enrolls, reports the host's real counters and writes nothing outside its config
// dir.
import assert from "node:assert/strict";
import { hostBinding } from "../../lib/host/mod.ts";
import { assertNoTokens, newToken, PROJECT } from "../support/agent.ts";
import {
  beatAccepted,
  enrolled,
  routes,
  type SeenRequest,
  startBackend,
  waitForRequest,
} from "../support/backend.ts";
import {
  agentInContainer,
  bwrapAvailable,
  containerArgs,
  DENO_IN_CONTAINER,
} from "../support/container.ts";
import { keptEnv } from "../support/env.ts";
import { tempDir } from "../support/tempdir.ts";

const PROBE = "tests/support/escape_probe.ts";
const ESCAPES = [
  "readShadow",
  "listRoot",
  "writeTmp",
  "runProgram",
  "loadNativeLibrary",
  "readOtherEnv",
];
const skip = await bwrapAvailable();
const isBeat = (r: SeenRequest) => r.path === "/api/sensors/heartbeat";

async function output(command: Deno.Command) {
  const out = await command.output();
  const text = {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
  assertNoTokens(text.stdout + text.stderr);
  return text;
}

Deno.test("permissions: under -P=agent the six escapes are refused by the permission set", async () => {
  const run = await output(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-q", "--no-prompt", "-P=agent", PROBE],
      cwd: PROJECT,
    }),
  );
  assert.equal(run.code, 0, run.stderr);
  const results = JSON.parse(run.stdout);
  assert.deepEqual(Object.keys(results), ESCAPES);
  for (const name of ESCAPES) assert.equal(results[name], "refused", `${name}: ${results[name]}`);
});

Deno.test("permissions: the probe itself can fail: with every permission, every escape succeeds", async () => {
  const run = await output(
    new Deno.Command(Deno.execPath(), { args: ["run", "-q", "-A", PROBE], cwd: PROJECT }),
  );
  const results = JSON.parse(run.stdout);
  for (const entry of Deno.readDirSync("/tmp")) {
    if (entry.name.startsWith("escape-probe-")) Deno.removeSync(`/tmp/${entry.name}`);
  }
  assert.ok(Object.values(results).every((r) => r === "allowed"), JSON.stringify(results));
});

Deno.test("permissions: the agent set's env list is exactly the contract's variables plus the proxies", async () => {
  const { CONFIG_KEYS } = await import("../../lib/config/mod.ts");
  const set = JSON.parse(await Deno.readTextFile(`${PROJECT}/deno.json`)).permissions.agent;
  const proxies = [
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
  ];
  assert.deepEqual([...set.env].sort(), [...CONFIG_KEYS, "SENSOR_AGENT_CONFIG", ...proxies].sort());
  assert.deepEqual(set.write, ["/etc/ravenxcope"]);
  assert.deepEqual(set.sys, ["hostname", "networkInterfaces"]);
  assert.equal(set.run, undefined);
  assert.equal(set.ffi, undefined);
});

Deno.test("permissions: Deno's experimental-feature notice never reaches a JSON log", async () => {
  const run = await output(
    new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "start", "status", "--config", "/etc/ravenxcope/none.env"],
      cwd: PROJECT,
      // a config error: one fatal line
      env: { ...keptEnv(), LOG_FORMAT: "json", BACKEND_URL: "ftp://bad" },
      clearEnv: true,
    }),
  );
  assert.equal(run.code, 78);
  for (const line of run.stderr.trim().split("\n")) JSON.parse(line);
});

Deno.test({
  name:
    "container: in the image's layout the agent enrolls, reports real counters, writes only its config dir",
  ignore: skip !== undefined,
  fn: async () => {
    const sensorToken = newToken("sensor");
    await using backend = startBackend(
      routes(() => enrolled(sensorToken, 1), () => beatAccepted()),
    );
    await using config = await tempDir();
    await using secrets = await tempDir();
    const installToken = newToken("install");
    await Deno.writeTextFile(secrets.join("install_token"), `${installToken}\n`);
    await Deno.chmod(config.path, 0o700);
    const env = {
      BACKEND_URL: backend.url,
      SENSOR_ID: "container-1",
      INSTALL_TOKEN_FILE: "/run/secrets/ravenxcope_install_token",
      LOG_FORMAT: "json",
    };
    // The secret, as compose mounts it.
    const secret = [
      "--ro-bind",
      secrets.join("install_token"),
      "/run/secrets/ravenxcope_install_token",
    ];
    const args = containerArgs(config.path, env, agentInContainer(["run"]), secret);
    const child = new Deno.Command("bwrap", {
      args,
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
    }).spawn();
    let beat: SeenRequest;
    try {
      beat = await waitForRequest(
        backend,
        (r) => isBeat(r) && backend.requests.filter(isBeat).length >= 2,
        20_000,
      );
    } finally {
      child.kill("SIGKILL"); // bwrap does not forward SIGTERM; --die-with-parent takes the agent along
    }
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertNoTokens(stderr);
    for (const line of stderr.trim().split("\n")) JSON.parse(line); // JSON logs stay JSON
    const enroll = JSON.parse(backend.requests.find((r) => r.path === "/api/sensors/enroll")!.body);
    assert.equal(enroll.installToken, installToken);
    const body = JSON.parse(beat.body);
    const lo = body.interfaces.find((i: { name: string }) => i.name === "lo");
    assert.ok(lo.isLoopback && lo.isUp && lo.isVirtual, JSON.stringify(lo));
    assert.ok(lo.bytesRecv > 0 && lo.bytesSent > 0, "lo carried this very test's traffic");
    assert.equal(body.sensorLabel, "container-1");
    assert.equal(beat.headers.get("authorization"), `Bearer ${sensorToken}`);
    const names = [...Deno.readDirSync(config.path)].map((e) => e.name).sort();
    assert.deepEqual(names, ["sensor-agent.env", "sensor-agent.env.lock"]);
    // The host's machine id is bound in at /host-machine-id, as compose binds it: the binding is
    // the host's own, saved beside the token.
    const machineId = (await Deno.readTextFile("/etc/machine-id").catch(() => "")).trim();
    const binding = machineId === "" ? undefined : hostBinding(machineId);
    assert.equal(
      await Deno.readTextFile(config.join("sensor-agent.env")),
      `SENSOR_TOKEN=${sensorToken}\n${binding ? `SENSOR_HOST_BINDING=${binding}\n` : ""}`,
    );
    assert.equal(beat.headers.get("sensor-host-binding"), binding ?? null);
    assert.equal((await Deno.stat(config.join("sensor-agent.env"))).mode! & 0o777, 0o600);
  },
});

Deno.test({
  name: "container: in the image's layout the six escapes are refused too",
  ignore: skip !== undefined,
  fn: async () => {
    await using config = await tempDir();
    const args = containerArgs(config.path, {}, [
      DENO_IN_CONTAINER,
      "run",
      "-q",
      "--no-prompt",
      "-P=agent",
      PROBE,
    ]);
    const run = await output(new Deno.Command("bwrap", { args, clearEnv: true }));
    assert.equal(run.code, 0, run.stderr);
    const results = JSON.parse(run.stdout);
    for (const name of ESCAPES) assert.equal(results[name], "refused", `${name}: ${results[name]}`);
  },
});

if (skip !== undefined) console.log(`skipped: container tests: ${skip}`);
