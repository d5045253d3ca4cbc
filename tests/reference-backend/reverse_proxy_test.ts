// The reference backend behind its reverse proxy (deploy/backend/nginx.conf, Debian's nginx), under
// the hostile loads of issue 20: the real backend process under `ulimit -n 1024`, TRUSTED_PROXIES
// naming the proxy, TLS with a test CA, and clients on several loopback addresses. One backend
// lives through every case, and must be the same process at the end. The floods run in a process
// of their own (support/slowclients.ts); probes enroll and beat from 127.0.0.3 meanwhile.
import assert from "node:assert/strict";
import { alive, rssBytes } from "../support/backendload.ts";
import { runAgent, usedTokens } from "../support/agent.ts";
import { makeCerts, opensslMissing, type TestCerts } from "../support/certs.ts";
import { freePort, nginxMissing, type RunningProxy, startProxy } from "../support/nginx.ts";
import {
  heartbeatBody,
  type RefBackend,
  seedPayload,
  startRefBackend,
} from "../support/refbackend.ts";
import { FIXTURE_READS, HOST_ENV } from "../support/seed.ts";
import { rawExchange } from "../support/rawhttp.ts";
import {
  slowClientsMissing,
  type SlowClientsPlan,
  startSlowClients,
} from "../support/slowclients.ts";
import { tempDir } from "../support/tempdir.ts";

const PROBE_ADDRESS = "127.0.0.3";
const ATTACKER = "127.0.0.2";

/** The pair under test and what talks to it. */
interface Pair {
  readonly backend: RefBackend;
  readonly proxy: RunningProxy;
  readonly certs: TestCerts;
  /** A request through the proxy from `from`: the status, Retry-After and parsed body. */
  call(
    from: string,
    method: string,
    path: string,
    options?: { body?: unknown; bearer?: string; headers?: Record<string, string> },
    // deno-lint-ignore no-explicit-any -- replies of several shapes, read by name
  ): Promise<{ status: number; retryAfter: string | null; ms: number; body?: any }>;
}

const clients = new Map<string, Deno.HttpClient>();

function clientFrom(address: string, certs: TestCerts): Deno.HttpClient {
  let client = clients.get(address);
  if (client === undefined) {
    client = Deno.createHttpClient({ caCerts: [certs.ca.pem], localAddress: address });
    clients.set(address, client);
  }
  return client;
}

function pairOf(backend: RefBackend, proxy: RunningProxy, certs: TestCerts): Pair {
  return {
    backend,
    proxy,
    certs,
    async call(from, method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.bearer !== undefined) headers.Authorization = `Bearer ${options.bearer}`;
      if (options.body !== undefined) headers["Content-Type"] = "application/json";
      const started = performance.now();
      const response = await fetch(`${proxy.url}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        client: clientFrom(from, certs),
      });
      const text = await response.text();
      let body;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        body = { text: text.slice(0, 200) };
      }
      for (const key of ["installToken", "sensorToken"]) {
        if (typeof body?.data?.[key] === "string") usedTokens.add(body.data[key]);
      }
      return {
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        ms: performance.now() - started,
        body,
      };
    },
  };
}

/** One probe from PROBE_ADDRESS: mint, enroll, beat; each request's status and time. */
async function probe(pair: Pair): Promise<{ status: number; ms: number }[]> {
  const results: { status: number; ms: number }[] = [];
  try {
    const minted = await pair.call(PROBE_ADDRESS, "POST", "/api/install-tokens", {
      bearer: pair.backend.adminToken,
      body: {},
    });
    results.push(minted);
    if (minted.status !== 201) return results;
    const enrolled = await pair.call(PROBE_ADDRESS, "POST", "/api/sensors/enroll", {
      body: seedPayload(minted.body.data.installToken),
    });
    results.push(enrolled);
    if (enrolled.status !== 200) return results;
    results.push(
      await pair.call(PROBE_ADDRESS, "POST", "/api/sensors/heartbeat", {
        bearer: enrolled.body.data.sensorToken,
        body: heartbeatBody(),
      }),
    );
  } catch (error) {
    results.push({ status: 0, ms: NaN });
    console.error(`probe failed: ${error}`);
  }
  return results;
}

/** Probes once a second for `seconds`; every request's status and time. */
async function probeFor(pair: Pair, seconds: number): Promise<{ status: number; ms: number }[]> {
  const all: { status: number; ms: number }[] = [];
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const [results] = await Promise.all([
      probe(pair),
      new Promise((resolve) => setTimeout(resolve, 1000)),
    ]);
    all.push(...results);
  }
  return all;
}

/** Asserts that at least 99 % of the probes got 2xx within 5 s; returns the share that did. */
function assertProbesServed(results: { status: number; ms: number }[], what: string): number {
  const good = results.filter((r) => r.status >= 200 && r.status < 300 && r.ms <= 5_000).length;
  const share = good / results.length;
  assert.ok(results.length >= 6, `${what}: only ${results.length} probe requests`);
  assert.ok(share >= 0.99, `${what}: ${good} of ${results.length} probes served within 5 s`);
  console.log(
    `${what}: ${good}/${results.length} probe requests served within 5 s, slowest ${
      Math.round(Math.max(...results.map((r) => r.ms)))
    } ms`,
  );
  return share;
}

/** Raw bytes through TLS to the proxy; what came back before the close (or 3 s). */
async function exchange(pair: Pair, raw: string): Promise<string> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: pair.proxy.port,
    caCerts: [pair.certs.ca.pem],
  });
  return await rawExchange(conn, raw, 3_000);
}

/** Starts a flood and waits until its clients are open. */
async function flood(plan: SlowClientsPlan) {
  const clients = startSlowClients(plan);
  const opened = await clients.ready;
  console.log(`${plan.kind}: ${opened.opened} open, ${opened.failed} failed to open`);
  assert.ok(opened.opened >= 0.99 * plan.count, `only ${opened.opened} of ${plan.count} opened`);
  return clients;
}

const skip = await nginxMissing() ?? await opensslMissing() ?? await slowClientsMissing();

Deno.test({
  name:
    "reverse proxy: the backend behind nginx keeps its PID and serves probes through every hostile case",
  async fn(t) {
    if (skip !== undefined) {
      console.log(`skipped: ${skip}`);
      return;
    }
    await using certs = await makeCerts();
    await using dir = await tempDir();
    const proxyPort = freePort();
    await using backend = await startRefBackend(30, undefined, {
      env: {
        TRUSTED_PROXIES: "127.0.0.1",
        PUBLIC_URL: `https://127.0.0.1:${proxyPort}`,
        DEV_INSECURE_HTTP: "0",
      },
      openFiles: 1024,
    });
    await using proxy = await startProxy(
      { dir: dir.path, port: proxyPort, backendPort: Number(new URL(backend.url).port) },
      certs,
    );
    const pair = pairOf(backend, proxy, certs);
    const pid = backend.pid;
    assert.doesNotMatch(backend.output(), /development mode/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const idleRss = await rssBytes(pid);

    await t.step("idle flood: 5,000 silent connections; probes served meanwhile", async () => {
      const silent = await flood({ kind: "idle", count: 5000, port: proxy.port });
      const results = await probeFor(pair, 3);
      await silent.stop();
      assertProbesServed(results, "idle flood");
    });

    await t.step(
      "2,000 slowloris heads and 1,000 slow bodies: probes served; heads cut at 10 s",
      async () => {
        const heads = await flood({
          kind: "slowloris",
          count: 2000,
          port: proxy.port,
          caPem: certs.ca.pem,
        });
        // Opening 2,000 TLS connections takes a few seconds: the last one's clock starts here.
        const allOpen = performance.now();
        // 20 addresses, 50 bodies each: under the per-address limit, so the proxy holds them all.
        const bodies = await flood({
          kind: "slowbody",
          count: 1000,
          port: proxy.port,
          caPem: certs.ca.pem,
          addresses: 20,
        });
        const results = await probeFor(pair, 6);
        // The header deadline (client_header_timeout 10 s) from each head's connection, and up to
        // two seconds of slack for timers on a machine as loaded as CI's full suite makes it.
        const wait = allOpen + 12_000 - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const [headsReport] = await Promise.all([heads.stop(), bodies.stop()]);
        assertProbesServed(results, "slowloris + slow bodies");
        assert.ok(
          headsReport.closedAfterMs.length >= 0.99 * headsReport.opened,
          `${headsReport.closedAfterMs.length} of ${headsReport.opened} heads cut by the proxy`,
        );
        const latest = Math.max(...headsReport.closedAfterMs);
        console.log(
          `slowloris: ${headsReport.closedAfterMs.length} heads cut, the latest after ${
            Math.round(latest)
          } ms`,
        );
        assert.ok(latest < 12_000, "cut at the 10 s deadline");
      },
    );

    await t.step(
      "chunk bomb: 8 clients send 1 MiB in 1-byte chunks; backend RSS stays under 2x idle",
      async () => {
        let peak = 0;
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            peak = Math.max(peak, await rssBytes(pid));
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        })();
        const bombs = await flood({
          kind: "chunkbomb",
          count: 8,
          port: proxy.port,
          caPem: certs.ca.pem,
          bodyBytes: 1024 * 1024 - 100,
        });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const report = await bombs.stop();
        sampling = false;
        await sampler;
        console.log(
          `chunk bomb: backend RSS idle ${Math.round(idleRss / 2 ** 20)} MiB, peak ${
            Math.round(peak / 2 ** 20)
          } MiB; answers ${report.answers.join(", ")}`,
        );
        assert.equal(report.answers.length, 8);
        // The body is a JSON object of one unknown field: the backend read it all, and refused it.
        for (const answer of report.answers) assert.match(answer, /^HTTP\/1\.1 400 /);
        assert.ok(peak < 2 * idleRss, `peak ${peak} vs idle ${idleRss}`);
      },
    );

    await t.step(
      "same-token storm: 1,000 heartbeats of one sensor at once, from 20 addresses: no 5xx but 503 with Retry-After",
      async () => {
        const minted = await pair.call(PROBE_ADDRESS, "POST", "/api/install-tokens", {
          bearer: backend.adminToken,
          body: {},
        });
        const enrolled = await pair.call(PROBE_ADDRESS, "POST", "/api/sensors/enroll", {
          body: seedPayload(minted.body.data.installToken),
        });
        const token = enrolled.body.data.sensorToken;
        const shots = await Promise.all(
          Array.from(
            { length: 1000 },
            (_, i) =>
              pair.call(`127.0.2.${1 + i % 20}`, "POST", "/api/sensors/heartbeat", {
                bearer: token,
                body: heartbeatBody(i),
              }).catch((error) => ({ status: 0, retryAfter: null, ms: NaN, body: String(error) })),
          ),
        );
        const counts: Record<number, number> = {};
        for (const shot of shots) counts[shot.status] = (counts[shot.status] ?? 0) + 1;
        console.log(`storm: ${JSON.stringify(counts)}`);
        for (const shot of shots) {
          assert.ok([200, 429, 503].includes(shot.status), JSON.stringify(counts));
          if (shot.status !== 200) assert.match(shot.retryAfter ?? "", /^\d+$/);
        }
        const [sensor] = (await backend.fleet()).filter((s: { id: string }) =>
          s.id === enrolled.body.data.sensorId
        );
        assert.equal(sensor.heartbeats, counts[200], "every 200 counted once");
      },
    );

    await t.step(
      "smuggling and malformed requests stop at the proxy; the backend still serves",
      async () => {
        const before = backend.output().length;
        const probes: [string, RegExp][] = [
          [
            "POST /api/sensors/enroll HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n" +
            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            /^HTTP\/1\.1 400 /,
          ],
          [
            "POST /api/sensors/enroll HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n" +
            "Content-Length: 5\r\n\r\nabcde",
            /^HTTP\/1\.1 400 /,
          ],
          ["GET / HTTP/1.1\r\nHost: localhost\r\nBad Name: x\r\n\r\n", /^HTTP\/1\.1 400 /],
          ["GET / HTTP/1.1\r\nHost: localhost\r\nX: a\x00b\r\n\r\n", /^HTTP\/1\.1 400 /],
          [
            "POST /api/sensors/enroll HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n",
            /^HTTP\/1\.1 501 /,
          ],
          [
            `GET / HTTP/1.1\r\nHost: localhost\r\nX: ${"a".repeat(20_000)}\r\n\r\n`,
            /^HTTP\/1\.1 400 /,
          ],
          ["GET / HTTP/1.1\r\nHost: local/host\r\n\r\n", /^HTTP\/1\.1 400 /],
          // The path tricks pass the proxy (it forwards the target as sent) and meet the backend's
          // strict routing: 400, never the admin route they decode to.
          [
            "GET /api/sensors/enroll/%2e%2e/%2e%2e/sensors HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            /^HTTP\/1\.1 400 [\s\S]*the path must be plain/,
          ],
          [
            "GET /api\\sensors HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            /^HTTP\/1\.1 400 /,
          ],
          [
            "GET //api/sensors HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            /^HTTP\/1\.1 400 /,
          ],
          // 100-continue: over the cap by Content-Length, 413 and no 100 first.
          [
            "POST /api/sensors/enroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json" +
            "\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n",
            /^HTTP\/1\.1 413 /,
          ],
        ];
        for (const [raw, expected] of probes) {
          const reply = await exchange(pair, raw);
          assert.match(reply, expected, JSON.stringify(raw.slice(0, 70)));
        }
        // None of the malformed ones reached a route: the backend logged only the path refusals.
        const logged = backend.output().slice(before);
        assert.doesNotMatch(logged, /status=(413|500)|bug:/);
        assert.equal(logged.match(/refused status=400/g)?.length, 3, logged);
        const [first] = await probe(pair);
        assert.equal(first.status, 201);
      },
    );

    await t.step(
      "lockout attempt from 127.0.0.2 while the agent enrolls from 127.0.0.1: others unaffected, the operator slowed, not locked out",
      async () => {
        const guesses = async () => {
          const statuses: number[] = [];
          for (let i = 0; i < 30; i++) {
            const wrong = `wrong-${i}-${crypto.randomUUID()}`;
            statuses.push(
              (await pair.call(ATTACKER, "POST", "/api/sensors/enroll", {
                body: seedPayload(wrong),
              }))
                .status,
              (await pair.call(ATTACKER, "GET", "/api/sensors", { bearer: wrong })).status,
              (await pair.call(ATTACKER, "POST", "/console/api/login", { body: { secret: wrong } }))
                .status,
            );
          }
          return statuses;
        };
        // The real agent, through TLS with the test CA, while the guesses run.
        const minted = await pair.call(PROBE_ADDRESS, "POST", "/api/install-tokens", {
          bearer: backend.adminToken,
          body: {},
        });
        const realToken = minted.body.data.installToken as string;
        await using agentDir = await tempDir();
        const config = agentDir.join("sensor-agent.env");
        await Deno.writeTextFile(
          config,
          `INSTALL_TOKEN=${realToken}\nBACKEND_URL=${proxy.url}\nBACKEND_CA_FILE=${certs.ca.path}\n`,
          { mode: 0o600 },
        );
        const [statuses, run] = await Promise.all([
          guesses(),
          runAgent(["enroll", "--config", config], {
            read: [...FIXTURE_READS, certs.ca.path],
            write: [agentDir.path],
            env: { ...HOST_ENV },
          }),
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(await Deno.readTextFile(config), /^SENSOR_TOKEN=/m);
        assert.ok(statuses.includes(429), `the attacker was limited: ${statuses}`);
        assert.ok(!statuses.some((status) => status >= 500), `${statuses}`);
        // Another address: a valid install token and the right admin token work at once.
        assert.equal((await probe(pair)).map((r) => r.status).join(), "201,200,200");
        const admin = await pair.call(PROBE_ADDRESS, "GET", "/api/sensors", {
          bearer: backend.adminToken,
        });
        assert.equal(admin.status, 200);
        // The attacker's own address: the right admin token waits out the backoff, then works.
        let answer = await pair.call(ATTACKER, "GET", "/api/sensors", {
          bearer: backend.adminToken,
        });
        for (let i = 0; answer.status === 429 && i < 5; i++) {
          const wait = Number(answer.retryAfter);
          assert.ok(wait >= 1 && wait <= 60, `Retry-After ${answer.retryAfter}`);
          await new Promise((resolve) => setTimeout(resolve, wait * 1000));
          answer = await pair.call(ATTACKER, "GET", "/api/sensors", { bearer: backend.adminToken });
        }
        assert.equal(answer.status, 200, "the operator at the guessing address gets in");
        assert.match(backend.output(), /refused status=429 .*client=127\.0\.0\.2/);
        assert.doesNotMatch(backend.output(), /refused status=429 .*client=127\.0\.0\.[13]\b/);
      },
    );

    assert.ok(await alive(pid), "the backend is the same process");
    const { code, output } = await backend.stop();
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /bug:|stopped accepting/);
    for (const client of clients.values()) client.close();
    clients.clear();
  },
});
