// A hostile backend, at the byte level (docs/protocol.md; docs/configuration.md, Exit codes): the
// real main.ts against servers on loopback that misbehave the ways a broken or malicious backend
// can. Each case exits with its documented code, leaves the config as it was, and prints no token.
// The HTTP-level cases that enroll_test.ts and tls_test.ts already cover (refused port, a held
// reply, HTTP 4xx/5xx, invalid JSON, success: false, an untrusted certificate) are listed in
// docs/reliability.md, not repeated.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { newToken, runAgent, startAgent, usedTokens } from "../support/agent.ts";
import { beatAccepted, enrolled, routes, startBackend } from "../support/backend.ts";
import { head, type RawScript, startRawServer } from "../support/rawserver.ts";
import { listing, seed } from "../support/seed.ts";
import { runWrapped, unavailable } from "../support/wrapped.ts";

const MiB = 1024 * 1024;

/** Runs `enroll` against `url` with BACKEND_TIMEOUT_SECONDS=`timeout`; checks the file is untouched. */
async function enrollAgainst(url: string, timeout = "1", net?: string) {
  const s = await seed(url);
  await using _ = s.dir;
  const started = performance.now();
  const env = { ...s.options.env, BACKEND_TIMEOUT_SECONDS: timeout };
  const run = await runAgent(["enroll", ...s.args], { ...s.options, env, net });
  const ended = performance.now();
  const elapsed = ended - started;
  assert.equal(await Deno.readTextFile(s.config), s.before, "the config is untouched");
  assert.deepEqual(await listing(s.dir.path), ["sensor-agent.env", "sensor-agent.env.lock"]);
  assert.equal(run.stderr.match(/ ERROR /g)?.length, 1, `one fatal line: ${run.stderr}`);
  return { run, elapsed, ended };
}

/** A script that reads the request, then sends `reply` and whatever `then` adds. */
function answer(reply: string, then?: RawScript): RawScript {
  return async (conn) => {
    await conn.readRequest();
    await conn.write(reply);
    await then?.(conn);
  };
}

Deno.test("hostile backend: no status line ever (TCP accepted, silence) exits 69 after the timeout", async () => {
  await using server = startRawServer(async (conn) => {
    while (!conn.closing) await conn.sleep(100); // never reads, never writes
  });
  const { run, elapsed } = await enrollAgainst(server.url());
  assert.equal(run.code, 69, run.stderr);
  assert.match(run.stderr, /ERROR enrollment failed: no complete reply from .* in time/);
  assert.ok(elapsed >= 900 && elapsed < 5_000, `gave up after ${elapsed} ms`);
});

Deno.test("hostile backend: a status line whose headers trickle forever exits 69 after the timeout", async () => {
  await using server = startRawServer(answer("HTTP/1.1 200 OK\r\n", async (conn) => {
    while (!conn.closing) {
      await conn.write("X");
      await conn.sleep(200);
    }
  }));
  const { run, elapsed } = await enrollAgainst(server.url());
  assert.equal(run.code, 69, run.stderr);
  assert.match(run.stderr, /no complete reply/);
  assert.ok(elapsed < 5_000, `gave up after ${elapsed} ms`);
});

Deno.test("hostile backend: a body trickling one byte per 200 ms forever exits 69 within about 1 s", async () => {
  let replyStarted = 0;
  await using server = startRawServer(
    answer(
      head("200 OK", { "Content-Type": "application/json", "Transfer-Encoding": "chunked" }),
      async (conn) => {
        replyStarted = performance.now();
        await conn.write("1\r\n{\r\n");
        while (!conn.closing) {
          await conn.sleep(200);
          await conn.write("1\r\n \r\n");
        }
      },
    ),
  );
  const { run, ended } = await enrollAgainst(server.url());
  assert.equal(run.code, 69, run.stderr);
  assert.match(run.stderr, /no complete reply/);
  // From the reply's first byte to the agent's exit: the 1 s timeout (started with the request,
  // a moment before), then exit. Measured from the reply, so a slow process start does not count.
  const elapsed = ended - replyStarted;
  assert.ok(elapsed >= 800 && elapsed < 2_500, `gave up ${elapsed} ms after the reply began`);
  assert.ok(server.bytesSent() > 100, "the reply had started: the timeout hit during the body");
});

/**
 * Runs `enroll` against `script` and returns the run with the agent's peak RSS in MB, measured by
 * GNU time's getrusage of the child where /usr/bin/time exists, else by polling VmHWM.
 */
async function enrollMeasuringRss(script: RawScript) {
  await using server = startRawServer(script);
  const s = await seed(server.url());
  await using _ = s.dir;
  const env = { ...s.options.env, BACKEND_TIMEOUT_SECONDS: "20" };
  const timeMissing = await unavailable("/usr/bin/time", ["-f", "%M", "true"]);
  const started = performance.now();
  let run;
  let peakKiB: number;
  if (timeMissing === undefined) {
    const report = s.dir.join("rss");
    run = await runWrapped(["/usr/bin/time", "-f", "%M", "-o", report], ["enroll", ...s.args], {
      ...s.options,
      env,
    });
    peakKiB = Number((await Deno.readTextFile(report)).trim().split("\n").at(-1));
    await Deno.remove(report);
  } else {
    const agent = startAgent(["enroll", ...s.args], { ...s.options, env });
    peakKiB = 0;
    const poll = setInterval(() => {
      try {
        const status = Deno.readTextFileSync(`/proc/${agent.process.pid}/status`);
        peakKiB = Math.max(peakKiB, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      } catch {
        // gone
      }
    }, 5);
    run = await agent.exited();
    clearInterval(poll);
  }
  const elapsed = performance.now() - started;
  assert.equal(await Deno.readTextFile(s.config), s.before, "the config is untouched");
  return { run, elapsed, peakMB: peakKiB / 1024, sent: server.bytesSent() };
}

Deno.test("hostile backend: a 20 MB body exits 76 after 1 MiB; peak RSS stays under 200 MB", async () => {
  const sensorToken = newToken("sensor");
  // A reply that would be a valid enrollment if read in full: only the cap can refuse it.
  const padding = "x".repeat(20 * MiB);
  const body = new TextEncoder().encode(
    `{"padding":"${padding}","success":true,"data":{"sensorToken":"${sensorToken}"}}`,
  );
  const { run, elapsed, peakMB, sent } = await enrollMeasuringRss(
    answer(
      head("200 OK", { "Content-Type": "application/json", "Content-Length": body.length }),
      (conn) => conn.write(body),
    ),
  );
  assert.equal(run.code, 76, run.stderr);
  assert.match(run.stderr, /ERROR enrollment at .* failed: the reply is larger than 1 MiB/);
  assert.ok(peakMB < 200, `peak RSS ${peakMB.toFixed(0)} MB`);
  assert.ok(sent < body.length, `the agent hung up before the end (${sent} bytes sent)`);
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
});

Deno.test("hostile backend: an endless body at full speed exits 76 at once, not at the timeout", async () => {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const { run, elapsed, peakMB } = await enrollMeasuringRss(
    answer(head("200 OK", { "Content-Type": "application/json" }), async (conn) => {
      while (!conn.closing) await conn.write(chunk);
    }),
  );
  assert.equal(run.code, 76, run.stderr);
  assert.match(run.stderr, /larger than 1 MiB/);
  assert.ok(elapsed < 10_000, `took ${elapsed} ms with a 20 s timeout`);
  assert.ok(peakMB < 200, `peak RSS ${peakMB.toFixed(0)} MB`);
});

Deno.test("hostile backend: a gzip bomb (64 MB of zeros in 64 KB) exits 76 after 1 MiB inflated", async () => {
  const bomb = gzipSync(new Uint8Array(64 * MiB));
  const { run, peakMB } = await enrollMeasuringRss(
    answer(
      head("200 OK", {
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "Content-Length": bomb.length,
      }),
      (conn) => conn.write(bomb),
    ),
  );
  assert.equal(run.code, 76, run.stderr);
  assert.match(run.stderr, /larger than 1 MiB/);
  assert.ok(peakMB < 200, `peak RSS ${peakMB.toFixed(0)} MB`);
});

/** Replies that are not HTTP, or stop half-way: no usable HTTP answer, so 69 like a lost network. */
const brokenReplies: [string, RawScript][] = [
  ["the connection closed before any reply", (conn) => conn.readRequest().then(() => {})],
  ["a reply that is not HTTP at all (an SSH banner)", answer("SSH-2.0-OpenSSH_9.6\r\n\r\n")],
  ["a header block of 2 MB", answer(`HTTP/1.1 200 OK\r\nX-Pad: ${"a".repeat(2 * MiB)}\r\n\r\n{}`)],
  [
    "a body cut short of its Content-Length",
    answer(head("200 OK", { "Content-Length": 4096 }) + '{"success":true,"data":{'),
  ],
];
for (const [what, script] of brokenReplies) {
  Deno.test(`hostile backend: ${what} exits 69 and leaves the file untouched`, async () => {
    await using server = startRawServer(script);
    const { run } = await enrollAgainst(server.url());
    assert.equal(run.code, 69, run.stderr);
    assert.match(run.stderr, /ERROR enrollment failed: cannot reach 127\.0\.0\.1:\d+/);
  });
}

Deno.test("hostile backend: https to a server that never speaks TLS exits 69 after the timeout", async () => {
  await using server = startRawServer(async (conn) => {
    while (!conn.closing) await conn.sleep(100);
  });
  const { run, elapsed } = await enrollAgainst(server.url("https"));
  assert.equal(run.code, 69, run.stderr);
  assert.match(run.stderr, /no complete reply from https:/);
  assert.ok(elapsed < 5_000, `gave up after ${elapsed} ms`);
});

Deno.test("hostile backend: https to a plain-HTTP server exits 69, not a certificate error", async () => {
  await using server = startRawServer(async (conn) => {
    await conn.write(head("400 Bad Request", { "Content-Length": 0 }));
    while (!conn.closing) await conn.sleep(100);
  });
  const { run } = await enrollAgainst(server.url("https"));
  assert.equal(run.code, 69, run.stderr);
  assert.doesNotMatch(run.stderr, /certificate/);
});

/**
 * Sensor tokens that would change the env file if written unquoted: a comment, quotes, blanks,
 * line breaks, shell syntax. Each is refused (76) and never reaches the disk (docs/protocol.md).
 */
const injections: [string, string | number][] = [
  ["a #", `abcdefgh#INSTALL_TOKEN=${crypto.randomUUID()}`],
  ["a double quote", `abcdefgh"${crypto.randomUUID()}`],
  ["a single quote", `abcdefgh'${crypto.randomUUID()}`],
  ["a space", `abcdefgh ${crypto.randomUUID()}`],
  ["a tab", `abcdefgh\t${crypto.randomUUID()}`],
  ["a carriage return", `abcdefgh\rSENSOR_TOKEN=${crypto.randomUUID()}`],
  [
    "a newline and an export line",
    `abcdefgh\nexport BACKEND_URL=http://evil-${crypto.randomUUID()}`,
  ],
  ["a trailing newline", `abcdefgh${crypto.randomUUID()}\n`],
  ["command substitution", `$(touch /tmp/pwned-${crypto.randomUUID()})`],
  ["backticks", "`id`" + crypto.randomUUID()],
  ["a semicolon", `abcdefgh;${crypto.randomUUID()}`],
  ["a backslash", `abcdefgh\\${crypto.randomUUID()}`],
  ["a NUL byte", `abcdefgh\u0000${crypto.randomUUID()}`],
  ["a Unicode line separator", `abcdefgh\u2028${crypto.randomUUID()}`],
  ["4097 characters", `${crypto.randomUUID()}${"a".repeat(4097 - 36)}`],
  ["a number instead of a string", 1234567890123],
];
for (const [what, token] of injections) {
  Deno.test(`hostile backend: a sensor token with ${what} is refused (76), never written`, async () => {
    if (typeof token === "string") usedTokens.add(token); // the leak scan looks for it too
    await using backend = startBackend(() => enrolled(token as string));
    const { run } = await enrollAgainst(backend.url);
    assert.equal(run.code, 76, run.stderr);
    assert.match(run.stderr, /sensor token in the reply is missing or malformed/);
  });
}

/** A second real server on 127.0.0.2 that counts every connection: the redirect's target. */
function redirectTarget() {
  return startRawServer(
    answer(head("200 OK", { "Content-Type": "application/json" }) + '{"success":true}'),
    "127.0.0.2",
  );
}

for (const status of [301, 302, 303, 307, 308]) {
  Deno.test(`hostile backend: a ${status} to another host: exit 76, the target sees no connection`, async () => {
    await using target = redirectTarget();
    const location = `${target.url()}/api/sensors/enroll`;
    await using backend = startBackend(() => new Response(null, { status, headers: { location } }));
    // The permission set allows 127.0.0.2, so only the agent's own rule can keep the token home.
    const { run } = await enrollAgainst(backend.url, "1", "127.0.0.1,127.0.0.2");
    assert.equal(run.code, 76, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(`redirect \\(HTTP ${status}\\), which the agent never follows`),
    );
    assert.equal(backend.requests.length, 1);
    assert.equal(target.connections(), 0, "the redirect target saw a connection");
    assert.equal(target.bytesReceived(), 0);
  });
}

Deno.test("hostile backend: a heartbeat answered by a 307 to another host: the sensor token stays home", async () => {
  await using target = redirectTarget();
  const location = `${target.url()}/api/sensors/heartbeat`;
  await using backend = startBackend(
    routes(
      () => new Response("unexpected", { status: 500 }),
      () => new Response(null, { status: 307, headers: { location } }),
    ),
  );
  const s = await seed(backend.url);
  await using _ = s.dir;
  const sensorToken = newToken("sensor");
  await Deno.writeTextFile(s.config, `BACKEND_URL=${backend.url}\nSENSOR_TOKEN=${sensorToken}\n`);
  const agent = startAgent(["run", ...s.args], { ...s.options, net: "127.0.0.1,127.0.0.2" });
  try {
    await agent.waitFor(/WARN backend lost: HTTP 307; retrying with backoff/);
  } finally {
    const run = await agent.stop();
    assert.equal(run.code, 0, run.stderr);
  }
  assert.equal(backend.requests.filter((r) => r.path.endsWith("/heartbeat")).length >= 1, true);
  assert.equal(target.connections(), 0, "the redirect target saw a connection");
});

Deno.test("hostile backend: after a hostile reply the next start enrolls normally (nothing was kept)", async () => {
  const sensorToken = newToken("sensor");
  const hostile = `abcdefgh#${crypto.randomUUID()}`;
  usedTokens.add(hostile);
  let n = 0;
  await using backend = startBackend(
    routes(() => enrolled(++n === 1 ? hostile : sensorToken), () => beatAccepted()),
  );
  const s = await seed(backend.url);
  await using _ = s.dir;
  const first = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(first.code, 76, first.stderr);
  const second = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(
    await Deno.readTextFile(s.config),
    `SENSOR_ID=sensor-1\n# INSTALL_TOKEN consumed during enrollment\nBACKEND_URL=${backend.url}\nSENSOR_TOKEN=${sensorToken}\n`,
  );
});
