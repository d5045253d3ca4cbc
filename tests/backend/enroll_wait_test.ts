// A backend that asks to be asked later at enrollment (docs/protocol.md; the contract, section 1):
// a 429 or 503 with Retry-After is waited out and asked again with the same Idempotency-Key, for at
// most 10 minutes in all, then exit 69, never 76; SIGTERM during a wait exits 0 at once, having
// sent nothing more. The real main.ts against a real HTTP server on 127.0.0.1.
import assert from "node:assert/strict";
import { agentCommand, assertNoTokens, newToken, runAgent } from "../support/agent.ts";
import { enrolled, startBackend } from "../support/backend.ts";
import { seed } from "../support/seed.ts";

/** The seed's config and options, with a machine id: the agent then sends an Idempotency-Key. */
async function seedWithMachineId(url: string) {
  const s = await seed(url);
  const machineIdFile = s.dir.join("machine-id");
  await Deno.writeTextFile(machineIdFile, "0123456789abcdef0123456789abcdef\n", { mode: 0o644 });
  return {
    ...s,
    options: { ...s.options, env: { ...s.options.env, HOST_MACHINE_ID_FILE: machineIdFile } },
  };
}

/** A busy reply: `status` with `Retry-After: retryAfter` (none when undefined). */
function busy(status: number, retryAfter?: string): Response {
  const headers: Record<string, string> = retryAfter === undefined
    ? {}
    : { "Retry-After": retryAfter };
  return Response.json({ success: false, error: "busy" }, { status, headers });
}

for (const status of [429, 503]) {
  Deno.test(`enroll wait: a ${status} with Retry-After is waited out, then asked again with the same Idempotency-Key`, async () => {
    const sensorToken = newToken("sensor");
    const arrivals: number[] = [];
    await using backend = startBackend((_, n) => {
      arrivals.push(performance.now());
      return n <= 2 ? busy(status, "1") : enrolled(sensorToken);
    });
    const s = await seedWithMachineId(backend.url);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(backend.requests.length, 3);
    const keys = backend.requests.map((request) => request.headers.get("idempotency-key"));
    assert.match(keys[0] ?? "", /^[0-9a-f]{64}$/);
    assert.deepEqual(keys, [keys[0], keys[0], keys[0]], "one key for every try");
    const bodies = new Set(backend.requests.map((request) => request.body));
    assert.equal(bodies.size, 1, "the same payload every time");
    for (let i = 1; i < arrivals.length; i++) {
      assert.ok(arrivals[i] - arrivals[i - 1] >= 950, `try ${i + 1} came too soon`);
    }
    assert.equal(
      run.stderr.match(/WARN the backend is busy \(HTTP \d+\); asking again in 1 s/g)
        ?.length,
      2,
    );
    assert.match(
      await Deno.readTextFile(s.config),
      new RegExp(`^SENSOR_TOKEN=${sensorToken}$`, "m"),
    );
  });
}

Deno.test("enroll wait: past 10 minutes of waiting in all it exits 69 at once, never 76, and the token is kept", async () => {
  // One second, then a wait that would pass the bound: no sleeping through it to find out.
  await using backend = startBackend((_, n) => busy(429, n === 1 ? "1" : "600"));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const started = performance.now();
  const run = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(run.code, 69, run.stderr);
  assert.ok(performance.now() - started < 10_000, "it did not wait out the 600 s");
  assert.equal(backend.requests.length, 2);
  const fatal = run.stderr.trim().split("\n").filter((line) => / ERROR /.test(line));
  assert.equal(fatal.length, 1, run.stderr);
  assert.match(fatal[0], /exitCode=69$/);
  assert.match(fatal[0], /still asks to be asked later \(HTTP 429, Retry-After 600 s\).*later/);
  assert.equal(await Deno.readTextFile(s.config), s.before, "nothing written; INSTALL_TOKEN kept");
});

Deno.test("enroll wait: a Retry-After of more than 10 minutes exits 69 without waiting", async () => {
  await using backend = startBackend(() => busy(503, "601"));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const run = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(run.code, 69, run.stderr);
  assert.equal(backend.requests.length, 1);
});

Deno.test("enroll wait: a 429 without Retry-After is a failed enrollment (76), as the contract says", async () => {
  await using backend = startBackend(() => busy(429));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const run = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(run.code, 76, run.stderr);
  assert.equal(backend.requests.length, 1);
});

Deno.test("enroll wait: an HTTP date in Retry-After is waited out as well", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend((_, n) =>
    n === 1 ? busy(503, new Date(Date.now() + 2_000).toUTCString()) : enrolled(sensorToken)
  );
  const s = await seed(backend.url);
  await using _ = s.dir;
  const run = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(backend.requests.length, 2);
});

Deno.test("enroll wait: SIGTERM during the wait exits 0 at once; nothing more is sent or saved", async () => {
  await using backend = startBackend(() => busy(429, "300"));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const child = agentCommand(["run", ...s.args], s.options).spawn();
  let stderr = "";
  const reading = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) stderr += text;
  })();
  const until = performance.now() + 10_000;
  while (!/asking again in 300 s/.test(stderr) && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.match(stderr, /asking again in 300 s/);
  const sent = performance.now();
  child.kill("SIGTERM");
  const status = await child.status;
  await reading;
  await child.stdout.cancel();
  assertNoTokens(stderr);
  assert.equal(status.code, 0, stderr);
  assert.ok(performance.now() - sent < 2_000, "it stopped within 2 s");
  assert.match(stderr, /stopped by a signal/);
  assert.equal(backend.requests.length, 1, "nothing was sent twice");
  assert.equal(await Deno.readTextFile(s.config), s.before);
});
