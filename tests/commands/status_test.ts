// `status`: what an operator asks first. It reads the config, sends no token, and exits 0 enrolled,
// 1 not enrolled, 69 when --check gets no answer (docs/configuration.md, Exit codes).
import assert from "node:assert/strict";
import { fingerprint } from "../../lib/secrets.ts";
import { newToken, runAgent } from "../support/agent.ts";
import { startBackend } from "../support/backend.ts";
import { tempDir } from "../support/tempdir.ts";

async function config(text: string) {
  const dir = await tempDir();
  const path = dir.join("sensor-agent.env");
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
  return { dir, path, options: { read: [dir.path], write: [dir.path] } };
}

Deno.test("status: an enrolled sensor exits 0 and shows its token's fingerprint, backend and file mode", async () => {
  const sensorToken = newToken("sensor");
  const c = await config(`BACKEND_URL=https://backend.example\nSENSOR_TOKEN=${sensorToken}\n`);
  await using _ = c.dir;
  const run = await runAgent(["status", "--config", c.path], c.options);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    new RegExp(`enrolled: yes \\(sensor token sha256:${fingerprint(sensorToken)}\\)`),
  );
  assert.match(run.stdout, /backend: https:\/\/backend\.example\//);
  assert.match(run.stdout, /config: \S+sensor-agent\.env \(mode 0600, owner \d+:\d+\)/);
});

Deno.test("status: a sensor that is not enrolled exits 1", async () => {
  const c = await config(
    `BACKEND_URL=https://backend.example\nINSTALL_TOKEN=${newToken("install")}\n`,
  );
  await using _ = c.dir;
  const run = await runAgent(["status", "--config", c.path], c.options);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /enrolled: no/);
});

Deno.test("status --check: a HEAD without any token to the heartbeat endpoint; any answer will do", async () => {
  await using backend = startBackend(() => new Response(null, { status: 405 }));
  const c = await config(`BACKEND_URL=${backend.url}\nSENSOR_TOKEN=${newToken("sensor")}\n`);
  await using _ = c.dir;
  const run = await runAgent(["status", "--check", "--config", c.path], c.options);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /backend check: answered HTTP 405/);
  assert.equal(backend.requests.length, 1);
  assert.equal(backend.requests[0].method, "HEAD");
  assert.equal(backend.requests[0].path, "/api/sensors/heartbeat");
  assert.equal(backend.requests[0].headers.get("authorization"), null);
});

Deno.test("status --check: no answer exits 69", async () => {
  const probe = startBackend(() => new Response());
  const url = probe.url;
  await probe.close();
  const c = await config(`BACKEND_URL=${url}\nSENSOR_TOKEN=${newToken("sensor")}\n`);
  await using _ = c.dir;
  const run = await runAgent(["status", "--check", "--config", c.path], c.options);
  assert.equal(run.code, 69);
  assert.match(run.stdout, /backend check: no answer/);
});

Deno.test("status: does not change the config or spend the install token", async () => {
  await using backend = startBackend(() => new Response(null, { status: 200 }));
  const text = `BACKEND_URL=${backend.url}\nINSTALL_TOKEN=${newToken("install")}\n`;
  const c = await config(text);
  await using _ = c.dir;
  const run = await runAgent(["status", "--check", "--config", c.path], c.options);
  assert.equal(run.code, 1);
  assert.equal(await Deno.readTextFile(c.path), text);
  assert.ok(backend.requests.every((r) => r.body === "" && r.method === "HEAD"));
});
