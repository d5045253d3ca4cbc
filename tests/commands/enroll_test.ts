// The enrollment flow end to end: the real main.ts as a subprocess, under a scoped permission set,
// against a real HTTP server on 127.0.0.1. One test per rule of the description's Failure Modes
// table and per exit code of docs/configuration.md, Exit codes.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { agentCommand, assertNoTokens, newToken, runAgent, startAgent } from "../support/agent.ts";
import {
  beatAccepted,
  enrolled,
  routes,
  startBackend,
  waitForRequest,
} from "../support/backend.ts";
import { FIXTURE_READS, seed, SEED_PAYLOAD } from "../support/seed.ts";

Deno.test("enroll: rewrites the seed's example exactly as the description shows", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(() => enrolled(sensorToken));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const run = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    await Deno.readTextFile(s.config),
    `SENSOR_ID=sensor-1\n# INSTALL_TOKEN consumed during enrollment\nBACKEND_URL=${backend.url}\nSENSOR_TOKEN=${sensorToken}\n`,
  );
  assert.equal((await Deno.stat(s.config)).mode! & 0o777, 0o600);
});

Deno.test("enroll: the payload has the seed's nine fields with the seed's JSON types", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(() => enrolled(sensorToken));
  const s = await seed(backend.url);
  await using _ = s.dir;
  assert.equal((await runAgent(["enroll", ...s.args], s.options)).code, 0);
  assert.equal(backend.requests.length, 1);
  const [req] = backend.requests;
  assert.equal(req.method, "POST");
  assert.equal(req.path, "/api/sensors/enroll");
  assert.equal(req.headers.get("content-type"), "application/json");
  assert.equal(req.headers.get("accept"), "application/json");
  assert.match(
    req.headers.get("user-agent")!,
    /^ravenxcope-sensor-agent\/2\.0\.0 \(linux; (x86_64|arm64)\)$/,
  );
  const body = JSON.parse(req.body);
  assert.deepEqual(Object.keys(body), [
    "installToken",
    "hostname",
    "osInfo",
    "architecture",
    "agentVersion",
    "sensorIp",
    "sensorPort",
    "sudoUser",
    "interfaces",
  ]);
  assert.equal(body.installToken, s.installToken);
  assert.equal(body.agentVersion, "2.0.0");
  assert.equal(body.sudoUser, "sensoradmin");
  assert.equal(body.sensorPort, 22);
  for (const key of ["hostname", "osInfo", "architecture", "sensorIp"]) {
    assert.equal(typeof body[key], "string");
  }
  const seedInterface = { ...SEED_PAYLOAD.interfaces[0], isManagement: false };

  const nic = body.interfaces.find((i: { name: string }) => i.name === "enp130s0f0");
  assert.deepEqual(Object.keys(nic), Object.keys(seedInterface));
  assert.deepEqual({ ...nic, isManagement: false }, seedInterface);
});

Deno.test("enroll: host files, SENSOR_PORT and SENSOR_IP reach the payload", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(() => enrolled(sensorToken));
  const s = await seed(backend.url);
  await using _ = s.dir;
  await Deno.writeTextFile(s.dir.join("hostname"), "\nsensor-ubuntu-host\n");
  await Deno.writeTextFile(
    s.dir.join("os-release"),
    'NAME="Ubuntu"\nPRETTY_NAME="Ubuntu 24.04 LTS"\n',
  );
  const env = {
    ...s.options.env,
    HOST_HOSTNAME_FILE: s.dir.join("hostname"),
    HOST_OS_RELEASE_FILE: s.dir.join("os-release"),
    SENSOR_PORT: "2222",
    SENSOR_IP: "192.0.2.10",
  };
  assert.equal((await runAgent(["enroll", ...s.args], { ...s.options, env })).code, 0);
  const body = JSON.parse(backend.requests[0].body);
  assert.equal(body.hostname, "sensor-ubuntu-host");
  assert.equal(body.osInfo, "Ubuntu 24.04 LTS");
  assert.equal(body.sensorPort, 2222);
  assert.equal(body.sensorIp, "192.0.2.10");
});

Deno.test("enroll: Idempotency-Key is the HMAC of the machine id keyed by the install token", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(() => enrolled(sensorToken));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const machineId = "0123456789abcdef0123456789abcdef";
  await Deno.writeTextFile(s.dir.join("machine-id"), `${machineId}\n`);
  const env = { ...s.options.env, HOST_MACHINE_ID_FILE: s.dir.join("machine-id") };
  assert.equal((await runAgent(["enroll", ...s.args], { ...s.options, env })).code, 0);
  const expected = createHmac("sha256", s.installToken).update(machineId).digest("hex");
  assert.equal(backend.requests[0].headers.get("idempotency-key"), expected);
});

Deno.test("enroll: without a machine id there is no Idempotency-Key header", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(() => enrolled(sensorToken));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const env = { ...s.options.env, HOST_MACHINE_ID_FILE: s.dir.join("no-such-file") };
  assert.equal((await runAgent(["enroll", ...s.args], { ...s.options, env })).code, 0);
  assert.equal(backend.requests[0].headers.get("idempotency-key"), null);
});

Deno.test("enroll: a 201 Created is as much a success as a 200", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(async () => {
    const ok = enrolled(sensorToken);
    return new Response(await ok.text(), { status: 201, headers: ok.headers });
  });
  const s = await seed(backend.url);
  await using _ = s.dir;
  assert.equal((await runAgent(["enroll", ...s.args], s.options)).code, 0);
  assert.match(await Deno.readTextFile(s.config), new RegExp(`^SENSOR_TOKEN=${sensorToken}$`, "m"));
});

Deno.test("enroll: an invalid interval is replaced by 30 s with a warning, and the token is kept", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(() => enrolled(sensorToken, "soon"));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const run = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(run.code, 0);
  assert.match(run.stderr, /WARN .*heartbeatIntervalSeconds.*using 30 s/);
  assert.match(await Deno.readTextFile(s.config), /^SENSOR_TOKEN=/m);
});

Deno.test("failure mode: a restart with a persisted SENSOR_TOKEN skips enrollment entirely", async () => {
  const sensorToken = newToken("sensor");
  const refuse = () => new Response("unexpected", { status: 500 });
  await using backend = startBackend(routes(refuse, () => beatAccepted()));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const existing = `SENSOR_ID=sensor-1\nBACKEND_URL=${backend.url}\nSENSOR_TOKEN=${sensorToken}\n`;
  await Deno.writeTextFile(s.config, existing);
  const enroll = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(enroll.code, 0, enroll.stderr);
  assert.match(enroll.stderr, /already enrolled/);
  const agent = startAgent(["run", ...s.args], s.options);
  const beat = await waitForRequest(backend, (r) => r.path === "/api/sensors/heartbeat");
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /already enrolled/);
  assert.equal(beat.headers.get("authorization"), `Bearer ${sensorToken}`);
  assert.equal(backend.requests.filter((r) => r.path.endsWith("/enroll")).length, 0);
  assert.equal(await Deno.readTextFile(s.config), existing);
});

Deno.test("failure mode: a SENSOR_TOKEN in the environment also means enrolled", async () => {
  await using backend = startBackend(() => new Response("unexpected", { status: 500 }));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const env = { ...s.options.env, SENSOR_TOKEN: newToken("sensor") };
  const run = await runAgent(["enroll", ...s.args], { ...s.options, env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(backend.requests.length, 0);
  assert.equal(await Deno.readTextFile(s.config), s.before);
});

Deno.test("failure mode: INSTALL_TOKEN missing on first run exits 78 and sends nothing", async () => {
  await using backend = startBackend(() => enrolled(newToken("sensor")));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const before = `SENSOR_ID=sensor-1\nBACKEND_URL=${backend.url}\n`;
  await Deno.writeTextFile(s.config, before);
  const run = await runAgent(["run", ...s.args], s.options);
  assert.equal(run.code, 78);
  assert.match(run.stderr, /INSTALL_TOKEN is missing.*set INSTALL_TOKEN/);
  assert.equal(run.stderr.trim().split("\n").length, 2, "the http warning and one fatal line");
  assert.equal(backend.requests.length, 0);
  assert.equal(await Deno.readTextFile(s.config), before);
});

Deno.test("failure mode: an unreachable backend exits 69 and leaves the file untouched", async () => {
  const closed = startBackend(() => new Response());
  const url = closed.url;
  await closed.close(); // the port is now free: connections are refused
  const s = await seed(url);
  await using _ = s.dir;
  const run = await runAgent(["run", ...s.args], s.options);
  assert.equal(run.code, 69);
  assert.match(
    run.stderr,
    /ERROR enrollment failed: cannot reach 127\.0\.0\.1:\d+.*Check BACKEND_URL/,
  );
  assert.equal(await Deno.readTextFile(s.config), s.before);
});

Deno.test("failure mode: a backend that never answers times out with 69", async () => {
  const held = Promise.withResolvers<void>();
  await using backend = startBackend(async () => {
    await held.promise;
    return new Response("late");
  });
  const s = await seed(backend.url);
  await using _ = s.dir;
  const started = performance.now();
  const env = { ...s.options.env, BACKEND_TIMEOUT_SECONDS: "1" };
  const run = await runAgent(["enroll", ...s.args], { ...s.options, env });
  held.resolve();
  assert.equal(run.code, 69);
  assert.match(run.stderr, /no complete reply/);
  assert.ok(performance.now() - started < 10_000);
  assert.equal(await Deno.readTextFile(s.config), s.before);
});

/** Non-2xx and malformed replies: each exits with its code and leaves the file as it was. */
const badReplies: [string, number, () => Response, RegExp][] = [
  ["HTTP 500", 76, () => new Response("oops", { status: 500 }), /HTTP 500/],
  ["HTTP 404", 76, () => Response.json({ success: false }, { status: 404 }), /HTTP 404/],
  [
    "a redirect",
    76,
    () => Response.redirect("http://127.0.0.2:9/elsewhere", 307),
    /redirect \(HTTP 307\)/,
  ],
  ["a body that is not JSON", 76, () => new Response("<html>"), /not JSON/],
  ["success: false", 76, () => Response.json({ success: false, data: {} }), /success: true/],
  ["no sensor token", 76, () => Response.json({ success: true, data: {} }), /token .*malformed/],
  ["a token with a newline", 76, () => enrolled("abcdefgh\nINSTALL_TOKEN=x"), /token .*malformed/],
  ["a token that is too short", 76, () => enrolled("abc"), /token .*malformed/],
  ["a body over 1 MiB", 76, () => new Response("x".repeat(1024 * 1024 + 1)), /larger than 1 MiB/],
  [
    "HTTP 401",
    77,
    () => Response.json({ success: false }, { status: 401 }),
    /rejected the install token/,
  ],
  ["HTTP 403", 77, () => new Response("", { status: 403 }), /rejected the install token/],
];
for (const [what, code, reply, message] of badReplies) {
  Deno.test(`failure mode: ${what} exits ${code} and leaves the file untouched`, async () => {
    await using backend = startBackend(reply);
    const s = await seed(backend.url);
    await using _ = s.dir;
    const run = await runAgent(["run", ...s.args], s.options);
    assert.equal(run.code, code, run.stderr);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.match(/ ERROR /g)?.length, 1, "exactly one fatal line");
    assert.equal(await Deno.readTextFile(s.config), s.before);
    assert.equal(backend.requests.length, 1, "no retry, no redirect followed");
  });
}

Deno.test("failure mode: persistence fails under run: one warning, heartbeats go on", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(routes(() => enrolled(sensorToken), () => beatAccepted()));
  const s = await seed(backend.url);
  await using _ = s.dir;
  // Readable but not writable for the agent: the permission set withholds write.
  const agent = startAgent(["run", ...s.args], {
    ...s.options,
    read: [...FIXTURE_READS, s.dir.path],
    write: [],
  });
  const beat = await waitForRequest(backend, (r) => r.path === "/api/sensors/heartbeat");
  const run = await agent.stop();
  assert.equal(run.code, 0, run.stderr);
  assert.equal(beat.headers.get("authorization"), `Bearer ${sensorToken}`);
  assert.match(run.stderr, /WARN cannot lock the config/);
  assert.equal(
    run.stderr.match(
      /WARN the sensor token could not be saved; going on with it in memory path=\S+sensor-agent\.env/g,
    )
      ?.length,
    1,
  );
  assert.equal(await Deno.readTextFile(s.config), s.before);
});

Deno.test("enroll: a config it cannot write exits 73 before the install token is spent", async () => {
  await using backend = startBackend(() => enrolled(newToken("sensor")));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const run = await runAgent(["enroll", ...s.args], {
    ...s.options,
    read: [...FIXTURE_READS, s.dir.path],
    write: [],
  });
  assert.equal(run.code, 73, run.stderr);
  assert.match(run.stderr, /cannot write the config \S+sensor-agent\.env.*nothing was sent/);
  assert.equal(backend.requests.length, 0);
  assert.equal(await Deno.readTextFile(s.config), s.before);
});

Deno.test("enroll --force: enrolls again with the install token and replaces SENSOR_TOKEN", async () => {
  const fresh = newToken("sensor");
  await using backend = startBackend(() => enrolled(fresh));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const old = newToken("sensor");
  await Deno.writeTextFile(
    s.config,
    `export SENSOR_TOKEN=${old}\nBACKEND_URL=${backend.url}\nSENSOR_ID=sensor-1\n`,
  );
  const env = { ...s.options.env, INSTALL_TOKEN: newToken("install") };
  const run = await runAgent(["enroll", "--force", ...s.args], { ...s.options, env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(backend.requests.length, 1);
  assert.equal(
    await Deno.readTextFile(s.config),
    `export SENSOR_TOKEN=${fresh}\nBACKEND_URL=${backend.url}\nSENSOR_ID=sensor-1\n`,
  );
});

Deno.test("enroll: INSTALL_TOKEN_FILE supplies the token, trailing whitespace trimmed", async () => {
  await using backend = startBackend(() => enrolled(newToken("sensor")));
  const s = await seed(backend.url);
  await using _ = s.dir;
  await Deno.writeTextFile(s.config, `BACKEND_URL=${backend.url}\n`);
  const installToken = newToken("install");
  await Deno.writeTextFile(s.dir.join("install-token"), `${installToken}\n\n`);
  const env = { ...s.options.env, INSTALL_TOKEN_FILE: s.dir.join("install-token") };
  assert.equal((await runAgent(["enroll", ...s.args], { ...s.options, env })).code, 0);
  assert.equal(JSON.parse(backend.requests[0].body).installToken, installToken);
});

Deno.test("enroll: a path prefix in BACKEND_URL is kept and joined with one slash", async () => {
  await using backend = startBackend(() => enrolled(newToken("sensor")));
  const s = await seed(`${backend.url}/ravenx/`);
  await using _ = s.dir;
  assert.equal((await runAgent(["enroll", ...s.args], s.options)).code, 0);
  assert.equal(backend.requests[0].path, "/ravenx/api/sensors/enroll");
});

Deno.test("enroll: a symlinked config has its target rewritten and the link kept", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(() => enrolled(sensorToken));
  const s = await seed(backend.url);
  await using _ = s.dir;
  await Deno.mkdir(s.dir.join("real"));
  await Deno.rename(s.config, s.dir.join("real/agent.env"));
  await Deno.symlink("real/agent.env", s.config);
  assert.equal((await runAgent(["enroll", ...s.args], s.options)).code, 0);
  assert.ok((await Deno.lstat(s.config)).isSymlink);
  assert.match(await Deno.readTextFile(s.dir.join("real/agent.env")), /^SENSOR_TOKEN=/m);
});

Deno.test("enroll: missing directories and file are created, 0700 and 0600", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(() => enrolled(sensorToken));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const config = s.dir.join("etc/ravenxcope/sensor-agent.env");
  const env = { ...s.options.env, INSTALL_TOKEN: newToken("install"), BACKEND_URL: backend.url };
  const run = await runAgent(["enroll", "--config", config], { ...s.options, env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(await Deno.readTextFile(config), `SENSOR_TOKEN=${sensorToken}\n`);
  assert.equal((await Deno.stat(config)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(s.dir.join("etc/ravenxcope"))).mode! & 0o777, 0o700);
});

Deno.test("enroll: SIGTERM during the request aborts it, exits 0 and saves nothing", async () => {
  const arrived = Promise.withResolvers<void>();
  const held = Promise.withResolvers<void>();
  await using backend = startBackend(async () => {
    arrived.resolve();
    await held.promise;
    return enrolled(newToken("sensor"));
  });
  const s = await seed(backend.url);
  await using _ = s.dir;
  const child = agentCommand(["enroll", ...s.args], s.options).spawn();
  await arrived.promise;
  const sent = performance.now();
  child.kill("SIGTERM");
  const output = await child.output();
  held.resolve();
  const stderr = new TextDecoder().decode(output.stderr);
  assertNoTokens(stderr);
  assert.equal(output.code, 0, stderr);
  assert.ok(performance.now() - sent < 1000, "stops within a second");
  assert.match(stderr, /stopped by a signal/);
  assert.equal(await Deno.readTextFile(s.config), s.before);
});

Deno.test("enroll: two agents on one config enroll once; the second skips", async () => {
  const sensorToken = newToken("sensor");
  const release = Promise.withResolvers<void>();
  await using backend = startBackend(async () => {
    await release.promise; // hold the first enrollment so the second must wait on the lock
    return enrolled(sensorToken);
  });
  const s = await seed(backend.url);
  await using _ = s.dir;
  const runs = [
    runAgent(["enroll", ...s.args], s.options),
    runAgent(["enroll", ...s.args], s.options),
  ];
  await new Promise((done) => setTimeout(done, 700));
  release.resolve();
  const results = await Promise.all(runs);
  assert.deepEqual(results.map((r) => r.code), [0, 0]);
  assert.equal(backend.requests.length, 1);
  assert.equal(results.filter((r) => /already enrolled/.test(r.stderr)).length, 1);
  assert.equal((await Deno.readTextFile(s.config)).match(/^SENSOR_TOKEN=/gm)?.length, 1);
});

Deno.test("inventory: prints the payload with the install token as a fingerprint", async () => {
  const s = await seed("http://127.0.0.1:9");
  await using _ = s.dir;
  const run = await runAgent(["inventory", ...s.args], s.options);
  assert.equal(run.code, 0, run.stderr);
  const payload = JSON.parse(run.stdout);
  assert.match(payload.installToken, /^sha256:[0-9a-f]{12}$/);
  assert.equal(payload.interfaces[0].name, "lo");
  assert.equal(await Deno.readTextFile(s.config), s.before);
});
