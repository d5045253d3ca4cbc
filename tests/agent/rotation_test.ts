// Token rotation against a backend this project did not write into the agent (docs/protocol.md,
// POST /api/sensors/token): the real main.ts, under its scoped test permissions, against
// support/protocol_backend.ts, which implements the protocol from the docs and misbehaves on cue.
// Each case is a point of issue 22's "Done when": one POST when a reply asks; a lost reply retried
// and answered with the same token; the new token alone from then on; the env file holding exactly
// it, 0600, every other line intact; the old token kept when the file cannot be saved.
import assert from "node:assert/strict";
import { readableCopy, startAgent } from "../support/agent.ts";
import { type Exchange, startProtocolBackend, until } from "../support/protocol_backend.ts";
import { sensorHost, withTokenReplaced, writeEnrolledFile } from "../support/sensorhost.ts";
import { listing } from "../support/seed.ts";
import { unavailable, wrappedCommand } from "../support/wrapped.ts";

const beats = (exchanges: readonly Exchange[]) =>
  exchanges.filter((e) => e.endpoint === "heartbeat");

Deno.test("rotation: a reply asking for it leads to one POST /api/sensors/token, then the new token alone", async () => {
  await using backend = startProtocolBackend();
  await using host = await sensorHost();
  const sensor = backend.addSensor();
  const old = sensor.token;
  const before = await writeEnrolledFile(host, backend, sensor);
  sensor.rotationWanted = true;
  const agent = startAgent(["run", ...host.args], host.options);
  await until(
    () => sensor.rotations === 1 && beats(backend.exchanges).length >= 4,
    "beats",
    agent.exited(),
  );
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);

  const [rotation, ...more] = backend.of("token");
  assert.equal(more.length, 0, "one rotation request");
  assert.equal(rotation.bearer, old);
  assert.equal(rotation.contentType, "application/json");
  assert.equal(rotation.body, "{}");
  assert.equal(rotation.binding, host.binding);
  assert.equal(rotation.effect, "issued");
  const sent = beats(backend.exchanges);
  const first = sent.findIndex((e) => e.bearer === sensor.token);
  assert.ok(first > 0 && rotation.at < sent[first].at, "the new token follows the rotation");
  assert.ok(sent.slice(0, first).every((e) => e.bearer === old && e.status === 200));
  assert.ok(sent.slice(first).every((e) => e.bearer === sensor.token && e.status === 200));
  assert.ok(sent.every((e) => e.binding === host.binding), "every beat carries the binding");

  assert.equal(await Deno.readTextFile(host.config), withTokenReplaced(before, sensor.token));
  assert.equal((await Deno.stat(host.config)).mode! & 0o777, 0o600);
  assert.deepEqual(await listing(host.etc), ["sensor-agent.env", "sensor-agent.env.lock"]);
  assert.match(run.stderr, /INFO sensor token rotated from=[0-9a-f]{12} to=[0-9a-f]{12}/);
});

Deno.test("rotation: a lost reply is asked again at the next asking reply and gets the same token", async () => {
  await using backend = startProtocolBackend();
  await using host = await sensorHost();
  const sensor = backend.addSensor();
  const old = sensor.token;
  const before = await writeEnrolledFile(host, backend, sensor);
  sensor.rotationWanted = true;
  backend.cue("token", { kind: "drop" }); // issued, then the connection closed: the reply is lost
  const agent = startAgent(["run", ...host.args], host.options);
  await until(
    () => sensor.rotations === 1 && beats(backend.exchanges).length >= 5,
    "beats",
    agent.exited(),
  );
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);

  const asks = backend.of("token");
  assert.deepEqual(asks.map((e) => [e.effect, e.status]), [["issued", 0], ["reissued", 200]]);
  assert.ok(asks.every((e) => e.bearer === old), "both asked with the old token");
  assert.equal(sensor.issued, 1, "the same new token both times: no chain");
  const sent = beats(backend.exchanges);
  const first = sent.findIndex((e) => e.bearer === sensor.token);
  assert.ok(first >= 2, "the old token beat on between the two asks");
  assert.ok(sent.slice(first).every((e) => e.bearer === sensor.token), "never the old one again");
  assert.equal(await Deno.readTextFile(host.config), withTokenReplaced(before, sensor.token));
  assert.equal(run.stderr.match(/WARN could not get a new sensor token/g)?.length, 1, run.stderr);
});

Deno.test("rotation: 5xx and a malformed token are transient: the old token beats on until a good reply", async () => {
  await using backend = startProtocolBackend();
  await using host = await sensorHost();
  const sensor = backend.addSensor();
  const old = sensor.token;
  const before = await writeEnrolledFile(host, backend, sensor);
  sensor.rotationWanted = true;
  backend.cue("token", { kind: "answer", status: 503, body: '{"success":false}' });
  backend.cue("token", {
    kind: "answer",
    status: 200,
    body: JSON.stringify({ success: true, data: { sensorToken: "a token\nINJECTED=1" } }),
  });
  const agent = startAgent(["run", ...host.args], host.options);
  await until(() => sensor.rotations === 1, "a rotation", agent.exited());
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.equal(backend.of("token").length, 3);
  const sent = beats(backend.exchanges);
  assert.ok(sent.slice(0, 3).every((e) => e.bearer === old && e.status === 200));
  assert.equal(await Deno.readTextFile(host.config), withTokenReplaced(before, sensor.token));
  assert.match(
    run.stderr,
    /WARN could not get a new sensor token: HTTP 503; going on with the saved token/,
  );
  assert.doesNotMatch(run.stderr, /INJECTED/);
});

Deno.test("rotation: a 401 to the rotation request exits 77 with one line, the file as it was", async () => {
  await using backend = startProtocolBackend();
  await using host = await sensorHost();
  const sensor = backend.addSensor();
  const before = await writeEnrolledFile(host, backend, sensor);
  sensor.rotationWanted = true;
  backend.cue("token", { kind: "answer", status: 401, body: '{"success":false}' });
  const run = await startAgent(["run", ...host.args], host.options).exited();
  assert.equal(run.code, 77, run.stderr);
  const errors = run.stderr.split("\n").filter((line) => line.includes(" ERROR "));
  assert.equal(errors.length, 1, run.stderr);
  assert.match(
    errors[0],
    /rejected the sensor token \(HTTP 401\) when asked for a new one.*enroll --force/,
  );
  assert.equal(await Deno.readTextFile(host.config), before);
});

Deno.test("rotation: SENSOR_TOKEN from the environment is never rotated: one warning, no request", async () => {
  await using backend = startProtocolBackend();
  await using host = await sensorHost();
  const sensor = backend.addSensor();
  await Deno.writeTextFile(host.config, `BACKEND_URL=${backend.url}\n`, { mode: 0o600 });
  sensor.rotationWanted = true;
  const env = { ...host.options.env, SENSOR_TOKEN: sensor.token };
  const agent = startAgent(["run", ...host.args], { ...host.options, env });
  await until(() => beats(backend.exchanges).length >= 3, "beats", agent.exited());
  const run = await agent.stop();
  assert.equal(backend.of("token").length, 0);
  assert.equal(
    run.stderr.match(
      /the backend asks for a new sensor token, but SENSOR_TOKEN is set in the environment/g,
    )?.length,
    1,
    run.stderr,
  );
});

const NOBODY = 65534;
const otherUid = Deno.uid() !== 0
  ? "running as another uid needs root"
  : await unavailable("setpriv", ["--version"]);

Deno.test({
  name:
    "rotation: with the config directory not writable by the agent's user, the old token beats on",
  ignore: otherUid !== undefined,
  async fn() {
    await using backend = startProtocolBackend();
    await using host = await sensorHost();
    await using code = await readableCopy();
    const sensor = backend.addSensor();
    const old = sensor.token;
    const before = await writeEnrolledFile(host, backend, sensor);
    // The agent's user owns its file, not the directory: no temporary file, no lock file there.
    await Deno.chown(host.config, NOBODY, NOBODY);
    await Deno.chmod(host.etc, 0o755);
    await Deno.chmod(host.dir.path, 0o755);
    sensor.rotationWanted = true;
    const wrapper = ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"];
    const child = wrappedCommand(wrapper, ["run", ...host.args], {
      ...host.options,
      main: code.main,
    })
      .spawn();
    const output = Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    const stopped = Promise.all([child.status, output]).then(([status, [, stderr]]) => ({
      code: status.code,
      stderr,
    }));
    const asked = () => backend.of("token").length >= 3 && beats(backend.exchanges).length >= 4;
    await until(asked, "three asks", stopped, 20_000);
    child.kill("SIGTERM");
    const [status, [, stderr]] = await Promise.all([child.status, output]);
    assert.equal(status.code, 0, stderr);
    assert.ok(beats(backend.exchanges).every((e) => e.bearer === old && e.status === 200));
    assert.equal(sensor.issued, 1, "asked again, answered the same new token");
    assert.equal(sensor.rotations, 0, "the new token was never used");
    assert.equal(await Deno.readTextFile(host.config), before);
    assert.deepEqual(await listing(host.etc), ["sensor-agent.env"]);
    const warnings = stderr.split("\n").filter((l) => l.includes("could not be saved"));
    assert.equal(warnings.length, 1, stderr);
    assert.match(warnings[0], /WARN a new sensor token could not be saved: .*Permission denied/);
  },
});
