// The reference backend under hostile load (issue 14), small enough for every run: a storm of one
// sensor's heartbeats, silent connections against a small cap and at the open-file limit, and a
// guesser of install tokens. The real backend process on loopback each time; the full-size runs
// are in `deno task bench` (bench/backend_load.ts).
import assert from "node:assert/strict";
import {
  alive,
  beatRequest,
  burst,
  type IdleFlood,
  idleFlood,
  statusCounts,
} from "./support/backendload.ts";
import { usedTokens } from "./support/agent.ts";
import {
  type Answer,
  heartbeatBody,
  type RefBackend,
  seedPayload,
  startRefBackend,
} from "./support/refbackend.ts";

/** Mints a token and enrolls the seed's sensor with it; the sensor token. */
async function enrollOne(backend: RefBackend): Promise<string> {
  const answer = await backend.enroll(seedPayload(await backend.mint()));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.data.sensorToken;
}

/** An enrollment sent from the loopback address `from` (the limit counts per address). */
async function enrollFrom(backend: RefBackend, from: string, installToken: string) {
  using client = Deno.createHttpClient({ localAddress: from });
  const response = await fetch(`${backend.url}/api/sensors/enroll`, {
    method: "POST",
    body: JSON.stringify(seedPayload(installToken)),
    client,
  });
  const body = await response.json();
  if (typeof body?.data?.sensorToken === "string") usedTokens.add(body.data.sensorToken);
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body };
}

/**
 * While a flood runs: an enrollment and two heartbeats still succeed, retried as the agent does
 * after a 503 (the backend's answer past its connection cap, Retry-After: 1).
 */
async function stillServes(backend: RefBackend): Promise<void> {
  const patiently = async (request: () => Promise<Answer>) => {
    for (let attempt = 1;; attempt++) {
      const answer = await request();
      if (answer.status !== 503 || attempt === 10) return answer;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  const installToken = await backend.mint();
  const enrolled = await patiently(() => backend.enroll(seedPayload(installToken)));
  assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
  for (let i = 0; i < 2; i++) {
    const beat = await patiently(() => backend.beat(enrolled.body.data.sensorToken));
    assert.equal(beat.status, 200, JSON.stringify(beat.body));
  }
}

/** Waits until `count` of the flood's connections were closed by the server, or `ms` passed. */
async function waitForCloses(flood: IdleFlood, count: number, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (flood.closedAfterMs().length < count && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("load: 1,000 concurrent heartbeats of one sensor get no 500: each is 200, or 429/503 with Retry-After", async () => {
  // The cap above the burst: this is about one sensor's record under contention, and with the
  // default cap (512) a loaded machine turned some of the 1,000 into connection errors, no answer
  // at all (the cap's own behaviour has the tests below).
  await using backend = await startRefBackend(undefined, undefined, {
    env: { MAX_CONNECTIONS: "1500" },
  });
  const sensorToken = await enrollOne(backend);
  const shots = await burst(1000, (i) => beatRequest(backend.url, sensorToken, heartbeatBody(i)));
  const counts = statusCounts(shots);
  for (const shot of shots) {
    assert.ok([200, 429, 503].includes(shot.status), `${JSON.stringify(counts)} ${shot.error}`);
    if (shot.status !== 200) assert.match(shot.retryAfter ?? "", /^\d+$/, JSON.stringify(shot));
  }
  assert.ok((counts[200] ?? 0) > 0, JSON.stringify(counts));
  const [sensor] = await backend.fleet();
  assert.equal(sensor.heartbeats, counts[200], "every 200 was counted once");
  assert.doesNotMatch(backend.output(), /failed|ERROR/);
});

Deno.test("load: 20 silent connections are closed at the header deadline (HEADER_TIMEOUT_SECONDS=1), not before", async () => {
  await using backend = await startRefBackend(30, undefined, {
    env: { HEADER_TIMEOUT_SECONDS: "1" },
  });
  const flood = idleFlood(Number(new URL(backend.url).port), 20);
  try {
    await waitForCloses(flood, 20, 3_000);
  } finally {
    await flood.stop();
  }
  const closed = flood.closedAfterMs();
  assert.equal(closed.length, 20, `${closed.length} of 20 closed by the server`);
  assert.ok(Math.min(...closed) >= 950, `the first close came after ${Math.min(...closed)} ms`);
  assert.ok(Math.max(...closed) < 1_600, `the last close came after ${Math.max(...closed)} ms`);
});

Deno.test("load: 300 silent connections against MAX_CONNECTIONS=50 are all closed, and sensors are still served", async () => {
  await using backend = await startRefBackend(30, undefined, {
    env: { MAX_CONNECTIONS: "50", HEADER_TIMEOUT_SECONDS: "1" },
  });
  const flood = idleFlood(Number(new URL(backend.url).port), 300);
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stillServes(backend);
    await waitForCloses(flood, 300, 6_000);
  } finally {
    await flood.stop();
  }
  const closed = flood.closedAfterMs();
  assert.equal(closed.length, 300, `${closed.length} of 300 closed; ${flood.failures()} failed`);
  // Past the cap they wait in the kernel's backlog, where the client's clock already runs: 50 at a
  // time, each closed once idle for half the deadline (listener.ts), about 3 s for all.
  assert.ok(Math.max(...closed) < 5_500, `the slowest close took ${Math.max(...closed)} ms`);
  assert.ok(await alive(backend.pid));
  await stillServes(backend);
});

Deno.test("load: at the open-file limit (ulimit -n 128, MAX_CONNECTIONS=1000) accept errors are logged once per burst and survived", async () => {
  await using backend = await startRefBackend(30, undefined, {
    env: { MAX_CONNECTIONS: "1000", HEADER_TIMEOUT_SECONDS: "1" },
    openFiles: 128,
  });
  const flood = idleFlood(Number(new URL(backend.url).port), 300);
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    await stillServes(backend);
  } finally {
    await flood.stop();
  }
  assert.ok(await alive(backend.pid), "the same process is still there");
  await stillServes(backend);
  const { code, output } = await backend.stop();
  assert.equal(code, 0, output);
  // One burst (the errors come within 10 s of each other): one line, however many errors.
  const warnings = output.match(/cannot accept connections/g) ?? [];
  assert.equal(warnings.length, 1, output);
  assert.match(output, /EMFILE|Too many open files/);
  assert.doesNotMatch(output, /unhandled|bug:/);
});

Deno.test("enroll limit: wrong install tokens from 127.0.0.1 get 429 after ENROLL_FAILURE_LIMIT; 127.0.0.2 still enrolls", async () => {
  await using backend = await startRefBackend(30, undefined, {
    env: { ENROLL_FAILURE_LIMIT: "5", ENROLL_FAILURE_WINDOW_SECONDS: "60" },
  });
  const statuses: number[] = [];
  for (let i = 0; i < 200; i++) {
    const answer = await enrollFrom(backend, "127.0.0.1", `guess-${i}-${crypto.randomUUID()}`);
    statuses.push(answer.status);
    if (answer.status === 429) {
      const wait = Number(answer.retryAfter);
      assert.ok(wait >= 1 && wait <= 60, `Retry-After ${answer.retryAfter}`);
    }
    if (i === 100) {
      // Meanwhile, from another address: its successes neither count nor are refused.
      for (let n = 0; n < 3; n++) {
        const other = await enrollFrom(backend, "127.0.0.2", await backend.mint());
        assert.equal(other.status, 200, JSON.stringify(other.body));
      }
    }
  }
  assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
  assert.ok(statuses.slice(5).every((status) => status === 429), JSON.stringify(statuses));
  // Over the limit, even a valid token from that address waits: the guess is not looked at.
  assert.equal((await enrollFrom(backend, "127.0.0.1", await backend.mint())).status, 429);
  assert.equal((await enrollFrom(backend, "127.0.0.3", await backend.mint())).status, 200);
  assert.match(
    backend.output(),
    /POST \/api\/sensors\/enroll refused status=429 .*client=127\.0\.0\.1/,
  );
});

Deno.test("load: a body trickled a byte at a time is cut off at the header deadline (HEADER_TIMEOUT_SECONDS=1), not held for a minute", async () => {
  // No token is needed to send an enrollment's body slowly: a connection held that way cannot be
  // closed for room (it is not idle), so its deadline is what bounds such a flood.
  await using backend = await startRefBackend(30, undefined, {
    env: { HEADER_TIMEOUT_SECONDS: "1" },
  });
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: Number(new URL(backend.url).port),
  });
  const started = performance.now();
  const encoder = new TextEncoder();
  await conn.write(
    encoder.encode("POST /api/sensors/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"),
  );
  let trickling = true;
  const trickle = (async () => {
    while (trickling) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (trickling) await conn.write(encoder.encode(" ")).catch(() => trickling = false);
    }
  })();
  const reply = new Uint8Array(4096);
  const closedOrAnswered = conn.read(reply).catch(() => null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const verdict = await Promise.race([
    closedOrAnswered.then((n) => ({ n })),
    new Promise<"held">((resolve) => timer = setTimeout(() => resolve("held"), 4_000)),
  ]);
  clearTimeout(timer); // the op sanitizer counts a pending timer as a leak
  const elapsed = performance.now() - started;
  trickling = false;
  conn.close();
  await trickle;
  await closedOrAnswered;
  assert.notEqual(verdict, "held", "the connection was still held after 4 s");
  assert.ok(elapsed < 3_000, `cut off after ${Math.round(elapsed)} ms`);
  const { n } = verdict as { n: number | null };
  if (n !== null) {
    assert.match(new TextDecoder().decode(reply.subarray(0, n)), /^HTTP\/1\.1 408 /);
  }
});
