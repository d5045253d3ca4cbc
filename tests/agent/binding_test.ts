// The host binding (docs/protocol.md, Requests made with a sensor token; docs/configuration.md,
// SENSOR_HOST_BINDING): the real main.ts against support/protocol_backend.ts, on two "machines"
// that differ by their machine id, as a cloned VM differs from its original. Every request made
// with the sensor token carries the binding; the binding is saved beside the token; a copied env
// file exits 78 with nothing sent while the original beats on; a file from before bindings keeps
// working and gains its binding; a host without a machine id sends and saves none.
import assert from "node:assert/strict";
import { runAgent, startAgent } from "../support/agent.ts";
import { type Exchange, startProtocolBackend, until } from "../support/protocol_backend.ts";
import { sensorHost, writeEnrolledFile } from "../support/sensorhost.ts";
import { listing } from "../support/seed.ts";

const beats = (exchanges: readonly Exchange[]) =>
  exchanges.filter((e) => e.endpoint === "heartbeat");

Deno.test("binding: enrollment saves it beside SENSOR_TOKEN, and every beat carries it", async () => {
  await using backend = startProtocolBackend();
  await using host = await sensorHost();
  await Deno.writeTextFile(
    host.config,
    `BACKEND_URL=${backend.url}\nINSTALL_TOKEN=${backend.mintInstallToken()}\nSENSOR_ID=s1\n`,
    { mode: 0o600 },
  );
  const agent = startAgent(["run", ...host.args], host.options);
  await until(() => beats(backend.exchanges).length >= 3, "beats", agent.exited());
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  const [sensor] = backend.sensors;
  assert.equal(
    await Deno.readTextFile(host.config),
    `BACKEND_URL=${backend.url}\n# INSTALL_TOKEN consumed during enrollment\nSENSOR_ID=s1\n` +
      `SENSOR_TOKEN=${sensor.token}\nSENSOR_HOST_BINDING=${host.binding}\n`,
  );
  // The enrollment is made with the install token, not a sensor token: no binding there.
  assert.equal(backend.of("enroll")[0].binding, null);
  assert.ok(beats(backend.exchanges).every((e) => e.binding === host.binding && e.status === 200));
  assert.deepEqual([...sensor.bindings], [host.binding]);
  const status = await runAgent(["status", ...host.args], host.options);
  assert.equal(status.code, 0, status.stderr);
  assert.match(
    status.stdout,
    /^enrolled: yes \(sensor token sha256:[0-9a-f]{12}\)\nhost binding: this host's$/m,
  );
});

Deno.test("binding: a copied env file on another machine exits 78 with nothing sent; the original beats on", async () => {
  await using backend = startProtocolBackend();
  await using original = await sensorHost();
  await using clone = await sensorHost(); // another machine id: a cloned VM whose id was reset
  const sensor = backend.addSensor();
  const text = await writeEnrolledFile(original, backend, sensor);
  await Deno.writeTextFile(clone.config, text, { mode: 0o600 });
  const agent = startAgent(["run", ...original.args], original.options);
  await until(() => beats(backend.exchanges).length >= 2, "the original's beats", agent.exited());

  for (const command of ["run", "enroll"]) {
    const copy = await runAgent([command, ...clone.args], clone.options);
    assert.equal(copy.code, 78, copy.stderr);
    // One fatal line (the http:// warning of a lab backend comes before it).
    const lines = copy.stderr.trim().split("\n").filter((line) => !line.includes(" WARN "));
    assert.equal(lines.length, 1, copy.stderr);
    assert.match(
      lines[0],
      /ERROR \S+sensor-agent.env was enrolled on another machine \(its SENSOR_HOST_BINDING is not this host's\): it is a copy, .*nothing was sent\. To enroll this host, obtain a new install token and run `enroll --force`/,
    );
  }
  const status = await runAgent(["status", ...clone.args], clone.options);
  assert.equal(status.code, 1, status.stderr);
  assert.match(status.stdout, /enrolled: no: the file holds another machine's sensor token/);
  assert.equal(await Deno.readTextFile(clone.config), text, "the copy is left as it was");
  assert.deepEqual(await listing(clone.etc), ["sensor-agent.env"], "not even a lock file");

  const seen = beats(backend.exchanges).length;
  await until(() => beats(backend.exchanges).length >= seen + 2, "more beats", agent.exited());
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.ok(
    backend.exchanges.every((e) => e.binding === original.binding && e.status === 200),
    "every request came from the original, and each was accepted",
  );
});

Deno.test("binding: a copy holding a fresh INSTALL_TOKEN enrolls this host with it", async () => {
  await using backend = startProtocolBackend();
  await using original = await sensorHost();
  await using clone = await sensorHost();
  const sensor = backend.addSensor();
  const text = await writeEnrolledFile(original, backend, sensor);
  await Deno.writeTextFile(
    clone.config,
    `${text}\nINSTALL_TOKEN=${backend.mintInstallToken()}\n`,
    { mode: 0o600 },
  );
  const agent = startAgent(["run", ...clone.args], clone.options);
  await until(() => beats(backend.exchanges).length >= 2, "the clone's beats", agent.exited());
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    /WARN the env file was enrolled on another machine \(a copy\); enrolling this host/,
  );
  const [, enrolled] = backend.sensors;
  assert.ok(enrolled, "a second sensor");
  const after = await Deno.readTextFile(clone.config);
  assert.match(
    after,
    new RegExp(`^SENSOR_TOKEN=${enrolled.token}\nSENSOR_HOST_BINDING=${clone.binding}\n`, "m"),
  );
  assert.match(after, /^# INSTALL_TOKEN consumed during enrollment$/m);
  assert.ok(!after.includes(sensor.token) && !after.includes(original.binding!));
  assert.ok(
    beats(backend.exchanges).every((e) =>
      e.bearer === enrolled.token && e.binding === clone.binding
    ),
  );
  assert.equal(sensor.bindings.size, 0, "the original's token was never sent");
});

Deno.test("binding: a file enrolled before bindings keeps working and gains its binding once", async () => {
  await using backend = startProtocolBackend();
  await using host = await sensorHost();
  const sensor = backend.addSensor();
  const before = await writeEnrolledFile(host, backend, sensor, false);
  const agent = startAgent(["run", ...host.args], host.options);
  await until(() => beats(backend.exchanges).length >= 2, "beats", agent.exited());
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  const bound = before.replace(/^(SENSOR_TOKEN=.*\n)/m, `$1SENSOR_HOST_BINDING=${host.binding}\n`);
  assert.equal(await Deno.readTextFile(host.config), bound);
  assert.equal((await Deno.stat(host.config)).mode! & 0o777, 0o600);
  assert.ok(beats(backend.exchanges).every((e) => e.binding === host.binding && e.status === 200));
  assert.equal(run.stderr.match(/INFO host binding saved beside the sensor token/g)?.length, 1);

  // The next start finds it and writes nothing.
  const { ino } = await Deno.stat(host.config);
  const again = startAgent(["run", ...host.args], host.options);
  await until(() => beats(backend.exchanges).length >= 4, "beats", again.exited());
  const rerun = await again.stop();
  assert.doesNotMatch(rerun.stderr, /host binding saved/);
  assert.equal((await Deno.stat(host.config)).ino, ino, "not rewritten");
});

Deno.test("binding: a host without a machine id sends no header and saves none", async () => {
  await using backend = startProtocolBackend();
  await using host = await sensorHost(null);
  await Deno.writeTextFile(
    host.config,
    `BACKEND_URL=${backend.url}\nINSTALL_TOKEN=${backend.mintInstallToken()}\n`,
    { mode: 0o600 },
  );
  const agent = startAgent(["run", ...host.args], host.options);
  await until(() => beats(backend.exchanges).length >= 2, "beats", agent.exited());
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.ok(backend.exchanges.every((e) => e.binding === null && e.status < 300));
  assert.doesNotMatch(await Deno.readTextFile(host.config), /SENSOR_HOST_BINDING/);
  const warnings = run.stderr.split("\n").filter((line) => line.includes("machine id:"));
  assert.equal(warnings.length, 1, run.stderr);
  assert.match(warnings[0], /a copy of the env file on another machine cannot be told/);
});
