// HTTPS backends (docs/protocol.md; BACKEND_CA_FILE in docs/configuration.md; exit codes; secrets):
// the real main.ts against a real TLS server on 127.0.0.1 whose certificate comes from a CA made
// for the test. Trust must come from BACKEND_CA_FILE and nowhere else; an untrusted certificate is
// a configuration error (78) that names BACKEND_CA_FILE, and nothing is sent before the handshake
// succeeds. The https tests need openssl and say they skipped without it.
import assert from "node:assert/strict";
import { newToken, runAgent, startAgent } from "../support/agent.ts";
import { type SeenRequest, startBackend, waitForRequest } from "../support/backend.ts";
import { makeCerts, opensslMissing, startTlsBackend, type TestCerts } from "../support/certs.ts";
import { tempDir } from "../support/tempdir.ts";
import { FIXTURE_READS, HOST_ENV } from "../support/seed.ts";

const UNENCRYPTED_WARNING = /WARN BACKEND_URL uses http:\/\/: tokens travel unencrypted/g;

const missing = await opensslMissing();
if (missing !== undefined) console.log(`skipped: tls_test.ts: ${missing}`);

/** The backend's answers of the task: an enrollment with `sensorToken`, and accepted beats. */
function backendAnswers(sensorToken: string) {
  return (request: SeenRequest) =>
    request.path.endsWith("/api/sensors/heartbeat")
      ? Response.json({ success: true, data: {} })
      : Response.json({ success: true, data: { sensorToken, heartbeatIntervalSeconds: 30 } });
}

/**
 * A config dir with an install token and BACKEND_URL, and the options to run the agent on it: the
 * certificates' dir is readable (BACKEND_CA_FILE must pass the permission check of section 2).
 */
async function setup(backendUrl: string, certs?: TestCerts, caFile?: string) {
  const dir = await tempDir();
  const config = dir.join("sensor-agent.env");
  const before = `INSTALL_TOKEN=${newToken("install")}\nBACKEND_URL=${backendUrl}\n`;
  await Deno.writeTextFile(config, before);
  const env: Record<string, string> = { ...HOST_ENV };
  if (caFile !== undefined) env.BACKEND_CA_FILE = caFile;
  const read = certs === undefined ? FIXTURE_READS : [...FIXTURE_READS, certs.dir];
  const options = { read, write: [dir.path], env };
  return { dir, config, before, options, args: ["--config", config] };
}

/** Only the fatal lines of a run: main.ts prints exactly one per failure (section 6). */
function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => / ERROR /.test(line));
}

/**
 * The run refused the backend as a configuration error: 78, one fatal line matching `reason`,
 * nothing sent, the config as it was.
 */
async function assertRefused(
  run: { code: number; stderr: string },
  reason: RegExp,
  backend: { requests: unknown[] },
  s: { config: string; before: string },
): Promise<void> {
  assert.equal(run.code, 78, run.stderr);
  const errors = errorLines(run.stderr);
  assert.equal(errors.length, 1, run.stderr);
  assert.match(errors[0], reason);
  assert.equal(backend.requests.length, 0, "refused before any request");
  assert.equal(await Deno.readTextFile(s.config), s.before);
}

const ignore = missing !== undefined;

Deno.test({
  name: "tls: enroll over https with BACKEND_CA_FILE naming the CA succeeds and saves the token",
  ignore,
  async fn() {
    await using certs = await makeCerts();
    const sensorToken = newToken("sensor");
    await using backend = startTlsBackend(certs, backendAnswers(sensorToken));
    const s = await setup(backend.url, certs, certs.ca.path);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(backend.requests.length, 1);
    assert.equal(backend.requests[0].path, "/api/sensors/enroll");
    assert.match(
      await Deno.readTextFile(s.config),
      new RegExp(`^SENSOR_TOKEN=${sensorToken}$`, "m"),
    );
  },
});

Deno.test({
  name: "tls: https://localhost works too: the certificate's DNS name is checked, not only its IP",
  ignore,
  async fn() {
    await using certs = await makeCerts();
    const sensorToken = newToken("sensor");
    await using backend = startTlsBackend(certs, backendAnswers(sensorToken));
    const s = await setup(`https://localhost:${backend.port}`, certs, certs.ca.path);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], { ...s.options, net: "127.0.0.1,localhost" });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(backend.requests.length, 1);
    assert.match(await Deno.readTextFile(s.config), /^SENSOR_TOKEN=/m);
  },
});

Deno.test({
  name: "tls: run beats over https with the same CA after enrolling",
  ignore,
  async fn() {
    await using certs = await makeCerts();
    const sensorToken = newToken("sensor");
    await using backend = startTlsBackend(certs, backendAnswers(sensorToken));
    const s = await setup(backend.url, certs, certs.ca.path);
    await using _ = s.dir;
    const agent = startAgent(["run", ...s.args], s.options);
    try {
      const beat = await waitForRequest(backend, (r) => r.path === "/api/sensors/heartbeat");
      assert.equal(beat.headers.get("authorization"), `Bearer ${sensorToken}`);
    } finally {
      const run = await agent.stop();
      assert.equal(run.code, 0, run.stderr);
      assert.doesNotMatch(run.stderr, /backend lost/);
    }
  },
});

Deno.test({
  name: "tls: without BACKEND_CA_FILE the certificate is not trusted: 78, one line, nothing sent",
  ignore,
  async fn() {
    await using certs = await makeCerts();
    await using backend = startTlsBackend(certs, backendAnswers(newToken("sensor")));
    const s = await setup(backend.url, certs);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    await assertRefused(run, /certificate is not trusted.*BACKEND_CA_FILE/, backend, s);
  },
});

Deno.test({
  name: "tls: BACKEND_CA_FILE naming an unrelated CA does not make the backend trusted (78)",
  ignore,
  async fn() {
    await using certs = await makeCerts();
    await using backend = startTlsBackend(certs, backendAnswers(newToken("sensor")));
    const s = await setup(backend.url, certs, certs.otherCa.path);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    await assertRefused(run, /certificate is not trusted.*BACKEND_CA_FILE/, backend, s);
  },
});

Deno.test({
  name: "tls: a certificate for another name is refused even from the trusted CA (78)",
  ignore,
  async fn() {
    await using certs = await makeCerts();
    // The certificate names localhost and 127.0.0.1; 127.0.0.2 is loopback too, but not its name.
    await using backend = startTlsBackend(certs, backendAnswers(newToken("sensor")), "127.0.0.2");
    const s = await setup(backend.url, certs, certs.ca.path);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], { ...s.options, net: "127.0.0.2" });
    await assertRefused(run, /certificate is not trusted/, backend, s);
  },
});

Deno.test({
  name: "tls: BACKEND_CA_FILE holding text that is not PEM exits 78 naming BACKEND_CA_FILE",
  ignore,
  async fn() {
    await using certs = await makeCerts();
    await using backend = startTlsBackend(certs, backendAnswers(newToken("sensor")));
    const garbage = `${certs.dir}/garbage.pem`;
    await Deno.writeTextFile(garbage, "this is not a certificate\nneither is this line\n");
    const s = await setup(backend.url, certs, garbage);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    await assertRefused(run, /BACKEND_CA_FILE/, backend, s);
  },
});

Deno.test({
  name: "tls: BACKEND_CA_FILE with a corrupt certificate block is refused before anything is sent",
  ignore,
  async fn() {
    await using certs = await makeCerts();
    await using backend = startTlsBackend(certs, backendAnswers(newToken("sensor")));
    const corrupt = `${certs.dir}/corrupt.pem`;
    await Deno.writeTextFile(
      corrupt,
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    const s = await setup(backend.url, certs, corrupt);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    const reason = new RegExp(`BACKEND_CA_FILE ${corrupt} is not a usable PEM bundle`);
    await assertRefused(run, reason, backend, s);
    assert.doesNotMatch(run.stderr, /INFO enrolling/, "refused before the request");
  },
});

Deno.test({
  name: "tls: an https backend gets no 'tokens travel unencrypted' warning",
  ignore,
  async fn() {
    await using certs = await makeCerts();
    await using backend = startTlsBackend(certs, backendAnswers(newToken("sensor")));
    const s = await setup(backend.url, certs, certs.ca.path);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, UNENCRYPTED_WARNING);
    // The test's permission set withholds the host's identity files, which is warned about.
    const others = run.stderr.split("\n").filter((line) =>
      / WARN /.test(line) && !/ WARN (hostname|osInfo|machine id): /.test(line)
    );
    assert.deepEqual(others, [], "no other warning");
  },
});

Deno.test({
  name: "tls: an http backend gets exactly one 'tokens travel unencrypted' warning",
  async fn() {
    await using backend = startBackend(backendAnswers(newToken("sensor")));
    const s = await setup(backend.url);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr.match(UNENCRYPTED_WARNING)?.length, 1, run.stderr);
  },
});

Deno.test({
  name: "tls: BACKEND_CA_FILE without any certificate is refused as such, before any handshake",
  async fn() {
    await using certs = await makeCerts();
    await using backend = startTlsBackend(certs, backendAnswers(newToken("sensor")));
    const garbage = `${certs.dir}/garbage.pem`;
    await Deno.writeTextFile(garbage, "this is not a certificate\n");
    const s = await setup(backend.url, certs, garbage);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(run.code, 78, run.stderr);
    assert.match(run.stderr, new RegExp(`ERROR BACKEND_CA_FILE ${garbage} is not a usable PEM`));
    assert.doesNotMatch(run.stderr, /INFO enrolling/);
  },
});

Deno.test({
  name: "tls: a refused connection is 'unreachable' (69) even when BACKEND_URL's path says tls",
  // Deno's fetch error repeats the URL; classify() in lib/backend/http.ts once matched its TLS
  // words against it, so a path like /tls-gateway made a refused connection exit 78 (fixed in
  // 138e07d).
  async fn() {
    const closed = startBackend(() => new Response());
    const url = closed.url;
    await closed.close(); // the port is now free: connections are refused
    const s = await setup(`${url}/tls-gateway`);
    await using _ = s.dir;
    const run = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(run.code, 69, run.stderr);
    assert.match(run.stderr, /ERROR enrollment failed: cannot reach 127\.0\.0\.1:\d+/);
    assert.equal(await Deno.readTextFile(s.config), s.before);
  },
});
