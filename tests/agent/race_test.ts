// Agents racing on one config (docs/configuration.md: "two agents on one config file never enroll
// twice"): eight real main.ts processes started at once on one file with one install token, under
// the scoped test permissions. Exactly one enrollment request reaches the backend, all eight end up
// with the same sensor token, and the file holds it once. The two-agent case is in enroll_test.ts.
import assert from "node:assert/strict";
import { parseEnvFile, withSensorToken } from "../../lib/config/mod.ts";
import { fingerprint } from "../../lib/secrets.ts";
import { agentCommand, newToken, runAgent, startAgent } from "../support/agent.ts";
import { beatAccepted, enrolled, routes, startBackend } from "../support/backend.ts";
import { seed } from "../support/seed.ts";
import { finish } from "../support/wrapped.ts";

const AGENTS = 8;
const isEnroll = (r: { path: string }) => r.path === "/api/sensors/enroll";

/** The file after the race must be exactly the one enrollment's rewrite, token once. */
async function assertEnrolledOnce(config: string, before: string, sensorToken: string) {
  const text = await Deno.readTextFile(config);
  assert.equal(text, withSensorToken(parseEnvFile(before, config), sensorToken));
  assert.equal(parseEnvFile(text, config).filter((l) => l.key === "SENSOR_TOKEN").length, 1);
}

for (const holdMs of [0, 500]) {
  const how = holdMs === 0 ? "answering at once" : `holding the reply ${holdMs} ms`;
  Deno.test(`race: ${AGENTS} enroll at once, backend ${how}: one request, ${AGENTS} exits 0, one token`, async () => {
    const sensorToken = newToken("sensor");
    await using backend = startBackend(async () => {
      await new Promise((done) => setTimeout(done, holdMs));
      return enrolled(sensorToken);
    });
    const s = await seed(backend.url);
    await using _ = s.dir;
    const runs = await Promise.all(
      Array.from({ length: AGENTS }, () => runAgent(["enroll", ...s.args], s.options)),
    );
    assert.deepEqual(
      runs.map((r) => r.code),
      Array(AGENTS).fill(0),
      runs.map((r) => r.stderr).join(""),
    );
    assert.equal(backend.requests.filter(isEnroll).length, 1);
    const token = `token=${fingerprint(sensorToken)}`;
    assert.equal(runs.filter((r) => /INFO enrolled .*token=/.test(r.stderr)).length, 1);
    assert.equal(
      runs.filter((r) => /already enrolled; enrollment skipped/.test(r.stderr)).length,
      AGENTS - 1,
    );
    for (const run of runs) assert.ok(run.stderr.includes(token), run.stderr);
    await assertEnrolledOnce(s.config, s.before, sensorToken);
  });
}

Deno.test(`race: ${AGENTS} run at once: one enrollment, then ${AGENTS} agents beat with the same token`, async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(routes(() => enrolled(sensorToken), () => beatAccepted()));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const options = { ...s.options, env: { ...s.options.env, LOG_LEVEL: "debug" } };
  const agents = Array.from({ length: AGENTS }, () => startAgent(["run", ...s.args], options));
  try {
    await Promise.all(agents.map((agent) => agent.waitFor(/DEBUG heartbeat sent/, 20_000)));
  } finally {
    const runs = await Promise.all(agents.map((agent) => agent.stop()));
    assert.deepEqual(runs.map((r) => r.code), Array(AGENTS).fill(0));
  }
  assert.equal(backend.requests.filter(isEnroll).length, 1);
  const beats = backend.requests.filter((r) => r.path === "/api/sensors/heartbeat");
  assert.ok(beats.length >= AGENTS, `${beats.length} beats`);
  for (const beat of beats) {
    assert.equal(beat.headers.get("authorization"), `Bearer ${sensorToken}`);
  }
  await assertEnrolledOnce(s.config, s.before, sensorToken);
});

Deno.test("race: an agent killed -9 while it holds the lock does not block the next one", async () => {
  const sensorToken = newToken("sensor");
  const first = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  let n = 0;
  await using backend = startBackend(async () => {
    if (++n === 1) {
      first.resolve();
      await release.promise; // the first agent waits here, holding the lock, until it is killed
    }
    return enrolled(sensorToken);
  });
  const s = await seed(backend.url);
  await using _ = s.dir;
  const holder = agentCommand(["enroll", ...s.args], s.options).spawn();
  await first.promise;
  const waiter = runAgent(["enroll", ...s.args], s.options);
  await new Promise((done) => setTimeout(done, 300)); // the second agent is queued on the lock
  holder.kill("SIGKILL");
  const killed = await finish(holder);
  release.resolve();
  assert.equal(killed.signal, "SIGKILL");
  const run = await waiter;
  assert.equal(run.code, 0, run.stderr);
  assert.equal(backend.requests.filter(isEnroll).length, 2, "the second agent enrolled itself");
  await assertEnrolledOnce(s.config, s.before, sensorToken);
});

Deno.test("race: SIGTERM to an agent queued on the lock exits 0 at once, having sent nothing", async () => {
  const first = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const sensorToken = newToken("sensor");
  await using backend = startBackend(async () => {
    first.resolve();
    await release.promise;
    return enrolled(sensorToken);
  });
  const s = await seed(backend.url);
  await using _ = s.dir;
  const holder = startAgent(["enroll", ...s.args], s.options);
  try {
    await first.promise;
    const queued = startAgent(["enroll", ...s.args], s.options);
    await queued.waitFor(/WARN BACKEND_URL uses http/);
    await new Promise((done) => setTimeout(done, 300)); // now blocked on the lock
    const sent = performance.now();
    const run = await queued.stop("SIGTERM");
    const elapsed = performance.now() - sent;
    assert.equal(run.code, 0, run.stderr);
    assert.ok(elapsed < 1_500, `stopped after ${elapsed} ms`);
    assert.match(run.stderr, /stopped by a signal/);
    assert.equal(backend.requests.length, 1, "only the holder's request");
  } finally {
    release.resolve();
    const run = await holder.exited();
    assert.equal(run.code, 0, run.stderr);
  }
  await assertEnrolledOnce(s.config, s.before, sensorToken);
});
