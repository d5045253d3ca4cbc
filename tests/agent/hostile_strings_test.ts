// Strings from outside in the agent's log (docs/threat-model.md, Log lines): the real main.ts
// against a backend on loopback whose enrollment reply carries terminal escape sequences or a huge
// sensorId, and a host file holding them. The operator's terminal must get visible escapes, never
// the bytes; a log line stays short whatever the backend sends.
import assert from "node:assert/strict";
import { newToken, runAgent } from "../support/agent.ts";
import { startBackend } from "../support/backend.ts";
import { seed } from "../support/seed.ts";

/** Erase the line, move the cursor up: the operator's previous line disappears. */
const ERASE_AND_CLIMB = "\x1b[2K\x1b[1A";
/** Sets the terminal's title (OSC), ended by BEL. */
const SET_TITLE = "\x1b]0;owned\x07";
/** What a terminal acts on or a viewer hides: ESC, BEL, CR, DEL, C1 (CSI, OSC), bidi overrides. */
const UNSAFE = /[\p{Cc}\p{Cf}]/u;

/** Fails when any line of `output` carries such a character raw. */
function assertPrintable(output: string): void {
  for (const line of output.trimEnd().split("\n")) {
    assert.doesNotMatch(line, UNSAFE, JSON.stringify(line));
  }
}

/** An enrollment reply with these `data` fields around a valid sensor token. */
function enrolledWith(data: Record<string, unknown>): Response {
  return Response.json({
    success: true,
    data: { sensorToken: newToken("sensor"), heartbeatIntervalSeconds: 30, ...data },
  });
}

/** `enroll` against a backend answering `reply`, in `format`; returns the run. */
async function enrollAgainst(reply: () => Response, format: "text" | "json", extra = {}) {
  await using backend = startBackend(reply);
  const s = await seed(backend.url);
  await using _ = s.dir;
  const env = { ...s.options.env, LOG_FORMAT: format, ...extra };
  const run = await runAgent(["enroll", ...s.args], { ...s.options, env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(backend.requests.length, 1);
  return run;
}

for (const format of ["text", "json"] as const) {
  Deno.test(`hostile strings: escape sequences in sensorId and backendUrl reach a ${format} log as escapes`, async () => {
    const sensorId = `sensor-7${ERASE_AND_CLIMB}`;
    const backendUrl = `http://10.0.0.1:5009/${SET_TITLE}\u009b2J\u202etxt.exe`;
    const run = await enrollAgainst(() => enrolledWith({ sensorId, backendUrl }), format);
    assertPrintable(run.stderr);
    const enrolled = run.stderr.split("\n").find((line) => /enrolled/.test(line));
    assert.ok(enrolled, run.stderr);
    if (format === "text") {
      assert.ok(enrolled.includes(String.raw`sensorId="sensor-7\x1b[2K\x1b[1A"`), enrolled);
      assert.ok(enrolled.includes(String.raw`\x1b]0;owned\x07\x9b2J\u{202e}txt.exe`), enrolled);
    } else {
      const parsed = JSON.parse(enrolled);
      assert.equal(parsed.sensorId, sensorId, "a log shipper gets the value as sent");
      assert.equal(parsed.backendUrl, backendUrl);
    }
  });

  Deno.test(`hostile strings: a 900 KB sensorId makes a ${format} line of under 1 KB`, async () => {
    const sensorId = "S".repeat(900 * 1024); // the reply stays under the 1 MiB cap
    const run = await enrollAgainst(() => enrolledWith({ sensorId }), format);
    const lines = run.stderr.trimEnd().split("\n");
    for (const line of lines) assert.ok(line.length < 1024, `a line of ${line.length} characters`);
    const enrolled = lines.find((line) => /enrolled/.test(line))!;
    const shown = format === "json"
      ? JSON.parse(enrolled).sensorId
      : /sensorId=(\S+)/.exec(enrolled)![1];
    assert.equal(shown, "S".repeat(256) + "...");
  });
}

Deno.test("hostile strings: a hostname file holding escape sequences is logged as escapes", async () => {
  await using backend = startBackend(() => enrolledWith({ sensorId: "s-1" }));
  const s = await seed(backend.url);
  await using _ = s.dir;
  const hostnameFile = s.dir.join("hostname");
  await Deno.writeTextFile(hostnameFile, `host${ERASE_AND_CLIMB}${SET_TITLE}\n`, { mode: 0o644 });
  const env = { ...s.options.env, HOST_HOSTNAME_FILE: hostnameFile };
  const run = await runAgent(["enroll", ...s.args], { ...s.options, env });
  assert.equal(run.code, 0, run.stderr);
  assertPrintable(run.stderr);
  assert.match(run.stderr, /hostname="host\\x1b\[2K\\x1b\[1A\\x1b\]0;owned\\x07"/);
  // What is sent is the host's data, not the log's rendering of it.
  assert.equal(JSON.parse(backend.requests[0].body).hostname, `host${ERASE_AND_CLIMB}${SET_TITLE}`);
});
