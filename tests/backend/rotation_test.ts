// The rotation's decisions (lib/backend/rotation.ts, docs/protocol.md POST /api/sensors/token): what
// a reply means, and the heartbeat loop in-process against a protocol backend on 127.0.0.1, with a
// TokenStore the test controls, an instant wait and a clock the test moves.
import assert from "node:assert/strict";
import type { AgentError } from "../../lib/errors.ts";
import { runHeartbeats } from "../../lib/backend/heartbeat.ts";
import { judgeRotationReply, type TokenStore } from "../../lib/backend/rotation.ts";
import type { HostSnapshot } from "../../lib/host/mod.ts";
import { setLogOptions } from "../../lib/log.ts";
import { startProtocolBackend } from "../support/protocol_backend.ts";

const snapshot = (): Promise<HostSnapshot> =>
  Promise.resolve({
    facts: { hostname: "h", osInfo: "o", architecture: "x86_64" },
    interfaces: [],
  });
const BINDING = "5f".repeat(32);

Deno.test("rotation reply: 2xx, success and a token under the enrollment's rules is a new token", () => {
  const ok = (sensorToken: unknown) => JSON.stringify({ success: true, data: { sensorToken } });
  assert.deepEqual(judgeRotationReply(200, ok("new-token-1")), {
    kind: "issued",
    sensorToken: "new-token-1",
  });
  assert.equal(judgeRotationReply(201, ok("new-token-1")).kind, "issued");
  for (const status of [401, 403]) {
    assert.deepEqual(judgeRotationReply(status, ""), { kind: "rejected", status });
  }
  const failures: [number, string | undefined][] = [
    [302, ok("new-token-1")],
    [429, ""],
    [500, ""],
    [503, ok("new-token-1")],
    [200, undefined], // over 1 MiB
    [200, "not json"],
    [200, JSON.stringify({ success: false, data: { sensorToken: "new-token-1" } })],
    [200, ok("short")],
    [200, ok("with space in it")],
    [200, ok("line\nBREAK=1")],
    [200, ok(12345678)],
    [200, JSON.stringify({ success: true })],
  ];
  for (const [status, text] of failures) {
    const reply = judgeRotationReply(status, text);
    assert.equal(reply.kind, "failed", `${status} ${text}`);
  }
});

/** Log lines of one in-process run, at debug level. */
async function withLog<T>(run: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  setLogOptions({ write: (line) => lines.push(line), level: "debug" });
  try {
    return { result: await run(), lines };
  } finally {
    setLogOptions({ write: (line) => console.error(line), level: "info" });
  }
}

Deno.test("rotation loop: saved before it is used; the wait keeps the schedule", async () => {
  await using backend = startProtocolBackend({ intervalSeconds: 30 });
  const sensor = backend.addSensor();
  const old = sensor.token;
  sensor.rotationWanted = true;
  let clock = 0;
  const saved: string[] = [];
  const store: TokenStore = {
    save(current, next) {
      assert.equal(current, old);
      assert.equal(sensor.rotations, 0, "saved before the first request made with it");
      saved.push(next);
      clock += 4_000; // a slow disk: four seconds of the wait go to the save
      return Promise.resolve();
    },
  };
  const waits: number[] = [];
  const { result } = await withLog(() =>
    runHeartbeats({
      backend: { url: new URL(backend.url), timeoutMs: 5000 },
      sensorToken: old,
      hostBinding: BINDING,
      tokenStore: store,
      intervalSeconds: 30,
      snapshot,
      signal: new AbortController().signal,
      wait: (ms) => (waits.push(ms), Promise.resolve()),
      now: () => clock,
      random: () => 0.5,
      maxBeats: 3,
    })
  );
  assert.equal(result, 0);
  assert.deepEqual(saved, [sensor.token]);
  assert.deepEqual(waits, [26_000, 30_000], "30 s after the beat, not 30 s after the save");
  assert.deepEqual(
    backend.exchanges.map((e) => [e.endpoint, e.token, e.binding]),
    [
      ["heartbeat", "current", BINDING],
      ["token", "current", BINDING],
      ["heartbeat", "pending", BINDING],
      ["heartbeat", "current", BINDING],
    ],
  );
});

Deno.test("rotation loop: a failing save keeps the old token and warns once, asking each time", async () => {
  await using backend = startProtocolBackend();
  const sensor = backend.addSensor();
  const old = sensor.token;
  sensor.rotationWanted = true;
  let attempts = 0;
  const store: TokenStore = {
    save: () => Promise.reject(new Error(`cannot write /x: disk full ${++attempts}`)),
  };
  const { lines } = await withLog(() =>
    runHeartbeats({
      backend: { url: new URL(backend.url), timeoutMs: 5000 },
      sensorToken: old,
      tokenStore: store,
      intervalSeconds: 1,
      snapshot,
      signal: new AbortController().signal,
      wait: () => Promise.resolve(),
      maxBeats: 4,
    })
  );
  assert.equal(attempts, 4);
  assert.equal(sensor.issued, 1, "the same new token each time");
  assert.ok(backend.exchanges.every((e) => e.token === "current" && e.binding === null));
  assert.equal(lines.filter((l) => l.includes(" WARN ")).length, 1, lines.join("\n"));
  assert.match(
    lines.find((l) => l.includes(" WARN "))!,
    /could not be saved: cannot write \/x: disk full 1/,
  );
});

Deno.test("rotation loop: a token store that cannot save is never asked to: no request", async () => {
  await using backend = startProtocolBackend();
  const sensor = backend.addSensor();
  sensor.rotationWanted = true;
  const { lines } = await withLog(() =>
    runHeartbeats({
      backend: { url: new URL(backend.url), timeoutMs: 5000 },
      sensorToken: sensor.token,
      tokenStore: { unsavable: "it is read-only", save: () => Promise.reject(new Error("no")) },
      intervalSeconds: 1,
      snapshot,
      signal: new AbortController().signal,
      wait: () => Promise.resolve(),
      maxBeats: 3,
    })
  );
  assert.equal(backend.of("token").length, 0);
  assert.equal(lines.filter((l) => l.includes("but it is read-only")).length, 1);
});

Deno.test("rotation loop: a 403 to the rotation request throws the 77", async () => {
  await using backend = startProtocolBackend();
  const sensor = backend.addSensor();
  sensor.rotationWanted = true;
  backend.cue("token", { kind: "answer", status: 403 });
  await assert.rejects(
    () =>
      runHeartbeats({
        backend: { url: new URL(backend.url), timeoutMs: 5000 },
        sensorToken: sensor.token,
        tokenStore: { save: () => Promise.resolve() },
        intervalSeconds: 1,
        snapshot,
        signal: new AbortController().signal,
        wait: () => Promise.resolve(),
      }),
    (error: AgentError) => error.exitCode === 77 && /HTTP 403/.test(error.message),
  );
});
