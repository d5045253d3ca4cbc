// `deno task demo` as a user runs it (README): exits 0 in under 30 s, shows tokens only as
// fingerprints, and leaves no process and no file behind.
import assert from "node:assert/strict";
import { PROJECT } from "../support/agent.ts";

Deno.test("demo: `deno task demo` exits 0 within 30 s and leaves nothing behind", async () => {
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "demo"],
    cwd: PROJECT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
  assert.ok(seconds < 30, `${seconds.toFixed(1)} s`);

  // Every step, the env file before and after, three beats and the fleet.
  for (let step = 1; step <= 8; step++) assert.match(text, new RegExp(`^${step}\\. `, "m"));
  assert.match(text, /^ {5}INSTALL_TOKEN=sha256:[0-9a-f]{12}$/m);
  assert.match(text, /^ {5}# INSTALL_TOKEN consumed during enrollment$/m);
  assert.match(text, /^ {5}SENSOR_TOKEN=sha256:[0-9a-f]{12}$/m);
  assert.match(text, /heartbeat 3 landed/);
  assert.match(text, /^ {3}[0-9a-f-]{36} {2}demo-sensor .* true {4}[3-9]/m);
  assert.match(text, /agent exited 0/);
  assert.match(text, /backend exited 0/);

  // Tokens only as fingerprints: no token assignment in clear, and no 43-character base64url run
  // (the backend's tokens are 32 random bytes in base64url).
  assert.doesNotMatch(text, /^\s*(export )?[A-Z_]+_TOKEN=(?!sha256:[0-9a-f]{12}$)/m);
  assert.doesNotMatch(text, /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/);

  // Nothing left: the temporary directory is gone and no process mentions it.
  const dir = /temporary directory (\/tmp\/ravenxcope-demo-[0-9a-f]+)/.exec(text)?.[1];
  assert.ok(dir, "the demo names its temporary directory");
  await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
  for (const pid of text.matchAll(/(?:backend|agent) pid (\d+)/g)) {
    const cmdline = await Deno.readTextFile(`/proc/${pid[1]}/cmdline`).catch(() => "");
    assert.ok(!cmdline.includes(dir), `process ${pid[1]} is still running`);
  }
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    assert.ok(!cmdline.includes(dir), `process ${entry.name} still runs with ${dir}`);
  }
});
