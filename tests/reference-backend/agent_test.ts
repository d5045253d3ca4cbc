// The real agent (main.ts, a subprocess under its scoped permission set) against the reference
// backend (reference-backend/, a subprocess with a temporary store): enrollment, persistence,
// heartbeats, the idempotent retry and revocation, end to end over loopback HTTP.
import assert from "node:assert/strict";
import { assertNoTokens, runAgent, startAgent, usedTokens } from "../support/agent.ts";
import { type RefBackend, startRefBackend } from "../support/refbackend.ts";
import { tempDir } from "../support/tempdir.ts";
import { FIXTURE, FIXTURE_READS } from "../support/seed.ts";
import { hostBinding } from "../../lib/host/mod.ts";

const MACHINE_ID = "0123456789abcdef0123456789abcdef";

/** A sensor host in a temp dir: the seed's env file, a hostname and a machine id. */
async function sensorHost(backend: RefBackend, machineId = MACHINE_ID) {
  const dir = await tempDir();
  const installToken = await backend.mint();
  const config = dir.join("sensor-agent.env");
  await Deno.writeTextFile(
    config,
    `SENSOR_ID=sensor-1\nINSTALL_TOKEN=${installToken}\nBACKEND_URL=${backend.url}\n`,
  );
  await Deno.writeTextFile(dir.join("hostname"), "sensor-e2e\n");
  await Deno.writeTextFile(dir.join("machine-id"), `${machineId}\n`);
  const env = {
    HOST_PROC: `${FIXTURE}/proc`,
    HOST_SYS: `${FIXTURE}/sys`,
    HOST_HOSTNAME_FILE: dir.join("hostname"),
    HOST_MACHINE_ID_FILE: dir.join("machine-id"),
    SENSOR_IP: "192.0.2.10",
  };
  const options = { read: FIXTURE_READS, write: [dir.path], env };
  return { dir, config, installToken, options, args: ["--config", config] };
}

/** The SENSOR_TOKEN the agent saved, remembered so that no output may contain it. */
async function savedToken(config: string): Promise<string> {
  const token = /^SENSOR_TOKEN=(.+)$/m.exec(await Deno.readTextFile(config))?.[1];
  assert.ok(token, "SENSOR_TOKEN saved");
  usedTokens.add(token);
  return token;
}

/** Polls the fleet until `ready` holds for the first sensor, or fails after `timeoutMs`. */
async function waitForSensor(
  backend: RefBackend,
  // deno-lint-ignore no-explicit-any
  ready: (sensor: any) => boolean,
  timeoutMs = 10_000,
) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const [sensor] = await backend.fleet();
    if (sensor !== undefined && ready(sensor)) return sensor;
    if (performance.now() > deadline) throw new Error(`fleet: ${JSON.stringify(sensor)}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

Deno.test("agent + reference backend: enrolls, saves the token, and its heartbeats land", async () => {
  await using backend = await startRefBackend(1);
  const host = await sensorHost(backend);
  await using _ = host.dir;
  const agent = startAgent(["run", ...host.args], host.options);
  const sensor = await waitForSensor(backend, (s) => s.heartbeats >= 2);
  const sensorToken = await savedToken(host.config);
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    await Deno.readTextFile(host.config),
    `SENSOR_ID=sensor-1\n# INSTALL_TOKEN consumed during enrollment\nBACKEND_URL=${backend.url}\n` +
      `SENSOR_TOKEN=${sensorToken}\nSENSOR_HOST_BINDING=${hostBinding(MACHINE_ID)}\n`,
  );
  assert.equal(sensor.hostname, "sensor-e2e");
  assert.equal(sensor.label, "sensor-1");
  assert.equal(sensor.sensorIp, "192.0.2.10");
  assert.equal(sensor.online, true);
  assert.match(run.stderr, new RegExp(`enrolled sensorId=${sensor.id}`));
  assertNoTokens(run.stderr + (await backend.stop()).output);
});

Deno.test("agent + reference backend: enrolling again with the same token on the same machine gets the same credential", async () => {
  await using backend = await startRefBackend();
  const host = await sensorHost(backend);
  await using _ = host.dir;
  const first = await runAgent(["enroll", ...host.args], host.options);
  assert.equal(first.code, 0, first.stderr);
  const sensorToken = await savedToken(host.config);
  // As after a lost reply: the same install token again, from the same machine.
  const env = { ...host.options.env, INSTALL_TOKEN: host.installToken };
  const retry = await runAgent(["enroll", "--force", ...host.args], { ...host.options, env });
  assert.equal(retry.code, 0, retry.stderr);
  assert.equal(await savedToken(host.config), sensorToken);
  assert.equal((await backend.fleet()).length, 1);
  assertNoTokens(first.stderr + retry.stderr);
});

Deno.test("agent + reference backend: the spent token on another machine exits 77", async () => {
  await using backend = await startRefBackend();
  const host = await sensorHost(backend);
  await using _ = host.dir;
  assert.equal((await runAgent(["enroll", ...host.args], host.options)).code, 0);
  const before = await Deno.readTextFile(host.config);
  await Deno.writeTextFile(host.dir.join("machine-id"), "fedcba9876543210fedcba9876543210\n");
  const env = { ...host.options.env, INSTALL_TOKEN: host.installToken };
  const other = await runAgent(["enroll", "--force", ...host.args], { ...host.options, env });
  assert.equal(other.code, 77, other.stderr);
  assert.match(other.stderr, /rejected the install token \(HTTP 401\)/);
  assert.equal(await Deno.readTextFile(host.config), before);
  await savedToken(host.config);
  assertNoTokens(other.stderr);
});

Deno.test("agent + reference backend: a revoked sensor's agent exits 77 at its next heartbeat", async () => {
  await using backend = await startRefBackend(1);
  const host = await sensorHost(backend);
  await using _ = host.dir;
  const agent = startAgent(["run", ...host.args], host.options);
  const sensor = await waitForSensor(backend, (s) => s.heartbeats >= 1);
  await savedToken(host.config);
  const revoked = await backend.call("POST", `/api/sensors/${sensor.id}/revoke`);
  assert.equal(revoked.status, 200);
  const run = await agent.exited();
  assert.equal(run.code, 77, run.stderr);
  assert.match(run.stderr, /rejected the sensor token \(HTTP 401\).*enroll --force/);
});

Deno.test("agent + reference backend: asked to rotate (the fleet's rotate-now), the agent's beats keep landing, and one host is no duplicate", async () => {
  await using backend = await startRefBackend(1);
  const host = await sensorHost(backend);
  await using _ = host.dir;
  const agent = startAgent(["run", ...host.args], host.options);
  const before = await waitForSensor(backend, (s) => s.heartbeats >= 1);
  await savedToken(host.config);
  assert.deepEqual((await backend.call("POST", "/api/sensors/rotate", {})).body.data, {
    requested: 1,
  });
  // Whether this agent rotates or not, asking never cuts it off.
  const after = await waitForSensor(backend, (s) => s.heartbeats >= before.heartbeats + 3);
  assert.equal(after.online, true);
  assert.equal(after.duplicate, null);
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  await savedToken(host.config);
  assertNoTokens(run.stderr + (await backend.stop()).output);
});
