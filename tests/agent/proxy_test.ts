// The agent behind a forward proxy (docs/protocol.md: "tokens go to BACKEND_URL, through the
// configured proxy, if any"). Deno's fetch reads HTTP_PROXY / HTTPS_PROXY / NO_PROXY (and their
// lowercase forms) itself, in Rust, from the process environment: it does not bypass loopback, it
// needs no --allow-env for them, and it keeps using them in a client made by
// Deno.createHttpClient({ caCerts }) (BACKEND_CA_FILE). The test harness's --allow-env does not
// list the proxy variables (tests/support/agent.ts), so every proxied test here also proves that
// the env permission plays no part. Proxy and backends all live on 127.0.0.0/8.
import assert from "node:assert/strict";
import { newToken, runAgent, startAgent } from "../support/agent.ts";
import { type SeenRequest, startBackend, waitForRequest } from "../support/backend.ts";
import { makeCerts, opensslMissing, startTlsBackend } from "../support/certs.ts";
import { startProxy } from "../support/proxy.ts";
import { tempDir } from "../support/tempdir.ts";
import { FIXTURE_READS, HOST_ENV } from "../support/seed.ts";

const ENROLL_PATH = "/api/sensors/enroll";

const missing = await opensslMissing();
if (missing !== undefined) console.log(`skipped: proxy_test.ts (https cases): ${missing}`);

/** The task's enrollment reply. */
function enrollReply(sensorToken: string): Response {
  return Response.json({ success: true, data: { sensorToken, heartbeatIntervalSeconds: 30 } });
}

/** Enrollments get `sensorToken`, heartbeats are accepted. */
function backendAnswers(sensorToken: string) {
  return (request: SeenRequest) =>
    request.path.endsWith("/api/sensors/heartbeat")
      ? Response.json({ success: true, data: {} })
      : enrollReply(sensorToken);
}

/** A config dir holding an install token and BACKEND_URL; `env` is the agent's process env. */
async function setup(backendUrl: string, env: Record<string, string>, read: string[] = []) {
  const dir = await tempDir();
  const config = dir.join("sensor-agent.env");
  const before = `INSTALL_TOKEN=${newToken("install")}\nBACKEND_URL=${backendUrl}\n`;
  await Deno.writeTextFile(config, before);
  const options = {
    read: [...FIXTURE_READS, ...read],
    write: [dir.path],
    env: { ...HOST_ENV, ...env },
  };
  return { dir, config, before, options, args: ["--config", config] };
}

Deno.test("proxy: with HTTP_PROXY the enrollment of an http backend goes through the proxy", async () => {
  await using proxy = startProxy();
  const sensorToken = newToken("sensor");
  await using backend = startBackend(backendAnswers(sensorToken));
  const s = await setup(backend.url, { HTTP_PROXY: proxy.url });
  await using _ = s.dir;
  const run = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(proxy.requests.map((r) => r.line), [
    `POST ${backend.url}${ENROLL_PATH} HTTP/1.1`,
  ]);
  assert.equal(backend.requests.length, 1);
  assert.equal(backend.requests[0].path, ENROLL_PATH);
  assert.match(await Deno.readTextFile(s.config), new RegExp(`^SENSOR_TOKEN=${sensorToken}$`, "m"));
});

Deno.test("proxy: the proxy needs no --allow-net: only 127.0.0.2 allowed, proxy on 127.0.0.1", async () => {
  await using proxy = startProxy(); // on 127.0.0.1, which the agent's --allow-net leaves out
  const sensorToken = newToken("sensor");
  // backend.ts binds 127.0.0.1 only, so this backend is a plain Deno.serve on 127.0.0.2.
  const paths: string[] = [];
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.2", port: 0, signal: controller.signal, onListen: () => {} },
    async (req) => {
      paths.push(new URL(req.url).pathname);
      await req.body?.cancel();
      return enrollReply(sensorToken);
    },
  );
  try {
    const backendUrl = `http://127.0.0.2:${server.addr.port}`;
    const s = await setup(backendUrl, { HTTP_PROXY: proxy.url });
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], { ...s.options, net: "127.0.0.2" });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(proxy.requests.map((r) => r.target), [`${backendUrl}${ENROLL_PATH}`]);
    assert.deepEqual(paths, [ENROLL_PATH]);
  } finally {
    controller.abort();
    await server.finished;
  }
});

Deno.test("proxy: heartbeats go through HTTP_PROXY too, after an enrollment through it", async () => {
  await using proxy = startProxy();
  const sensorToken = newToken("sensor");
  await using backend = startBackend(backendAnswers(sensorToken));
  const s = await setup(backend.url, { HTTP_PROXY: proxy.url });
  await using _ = s.dir;
  const agent = startAgent(["run", ...s.args], s.options);
  try {
    await waitForRequest(backend, (r) => r.path === "/api/sensors/heartbeat");
  } finally {
    const run = await agent.stop();
    assert.equal(run.code, 0, run.stderr);
  }
  assert.deepEqual(proxy.requests.map((r) => r.target), [
    `${backend.url}${ENROLL_PATH}`,
    `${backend.url}/api/sensors/heartbeat`,
  ]);
});

Deno.test("proxy: NO_PROXY naming the backend's host makes the agent go direct", async () => {
  await using proxy = startProxy();
  await using backend = startBackend(backendAnswers(newToken("sensor")));
  const s = await setup(backend.url, { HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" });
  await using _ = s.dir;
  const run = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(proxy.requests, []);
  assert.equal(backend.requests.length, 1);
});

Deno.test("proxy: NO_PROXY as a CIDR (127.0.0.0/8) covers the backend as well", async () => {
  await using proxy = startProxy();
  await using backend = startBackend(backendAnswers(newToken("sensor")));
  const s = await setup(backend.url, { HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.0/8" });
  await using _ = s.dir;
  const run = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(proxy.requests, []);
  assert.equal(backend.requests.length, 1);
});

Deno.test({
  name: "proxy: with HTTPS_PROXY an https backend is reached through CONNECT, BACKEND_CA_FILE kept",
  ignore: missing !== undefined,
  async fn() {
    await using certs = await makeCerts();
    await using proxy = startProxy();
    const sensorToken = newToken("sensor");
    await using backend = startTlsBackend(certs, backendAnswers(sensorToken));
    const env = { HTTPS_PROXY: proxy.url, BACKEND_CA_FILE: certs.ca.path };
    const s = await setup(backend.url, env, [certs.dir]);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(run.code, 0, run.stderr);
    // The proxy sees where, never what: no path, no header, no token.
    assert.deepEqual(proxy.requests.map((r) => r.line), [
      `CONNECT 127.0.0.1:${backend.port} HTTP/1.1`,
    ]);
    assert.equal(backend.requests.length, 1);
    assert.equal(backend.requests[0].path, ENROLL_PATH);
    assert.match(await Deno.readTextFile(s.config), /^SENSOR_TOKEN=/m);
  },
});

Deno.test({
  name: "proxy: through CONNECT the certificate is still checked end to end (no CA file: 78)",
  ignore: missing !== undefined,
  async fn() {
    await using certs = await makeCerts();
    await using proxy = startProxy();
    await using backend = startTlsBackend(certs, backendAnswers(newToken("sensor")));
    const s = await setup(backend.url, { HTTPS_PROXY: proxy.url }, [certs.dir]);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(run.code, 78, run.stderr);
    assert.match(run.stderr, /ERROR .*certificate is not trusted.*BACKEND_CA_FILE/);
    assert.equal(proxy.requests.length, 1, "the tunnel was opened");
    assert.equal(backend.requests.length, 0, "but no request went through it");
    assert.equal(await Deno.readTextFile(s.config), s.before);
  },
});

Deno.test({
  name: "proxy: HTTP_PROXY alone leaves an https backend direct (it is only for http:// URLs)",
  ignore: missing !== undefined,
  async fn() {
    await using certs = await makeCerts();
    await using proxy = startProxy();
    await using backend = startTlsBackend(certs, backendAnswers(newToken("sensor")));
    const env = { HTTP_PROXY: proxy.url, BACKEND_CA_FILE: certs.ca.path };
    const s = await setup(backend.url, env, [certs.dir]);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(proxy.requests, []);
    assert.equal(backend.requests.length, 1);
  },
});

Deno.test({
  name: "proxy: a tunnel the proxy cannot open is 'backend unreachable' (69), nothing saved",
  ignore: missing !== undefined,
  async fn() {
    await using certs = await makeCerts();
    await using proxy = startProxy();
    const closed = startTlsBackend(certs, () => new Response());
    const url = closed.url;
    await closed.close(); // the proxy's dial is refused: it answers CONNECT with 502
    const env = { HTTPS_PROXY: proxy.url, BACKEND_CA_FILE: certs.ca.path };
    const s = await setup(url, env, [certs.dir]);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(run.code, 69, run.stderr);
    assert.match(run.stderr, /ERROR enrollment failed: cannot reach/);
    assert.equal(proxy.requests.length, 1);
    assert.equal(await Deno.readTextFile(s.config), s.before);
  },
});
