// The reference backend (reference-backend/, issue 4) over real HTTP: a subprocess under its own
// permission set with a temporary Deno KV store, one per test. The pure modules are tested in
// process at the end.
import assert from "node:assert/strict";
import { join } from "node:path";
import { envValues, parseEnvFile, SENSOR_TOKEN_PATTERN } from "../lib/config/mod.ts";
import { setLogOptions } from "../lib/log.ts";
import { replayRefusal } from "../reference-backend/api/enrollment.ts";
import { createHandler } from "../reference-backend/api/mod.ts";
import {
  checkEnrollment,
  checkHeartbeat,
  checkIdempotencyKey,
  checkMintRequest,
} from "../reference-backend/api/validate.ts";
import {
  type AgentBinary,
  installCommand,
  loadDownloads,
} from "../reference-backend/install/mod.ts";
import { backendPermissionFlags } from "../reference-backend/launch.ts";
import { readSettings, SettingsError } from "../reference-backend/settings.ts";
import { packInterfaces, unpackInterfaces } from "../reference-backend/store/interfaces.ts";
import {
  digest,
  ONLINE_INTERVALS,
  randomToken,
  REPLAY_WINDOW_MS,
  seal,
  type Store,
  unseal,
} from "../reference-backend/store/mod.ts";
import { assertNoTokens, PROJECT } from "./support/agent.ts";
import {
  heartbeatBody,
  keyFor,
  type RefBackend,
  seedPayload,
  startRefBackend,
} from "./support/refbackend.ts";
import { keptEnv } from "./support/env.ts";
import { createSandbox, fakeAgent, type Sandbox, sandboxUnavailable } from "./support/sandbox.ts";
import { tempDir } from "./support/tempdir.ts";

const MACHINE_A = "0123456789abcdef0123456789abcdef";
const MACHINE_B = "fedcba9876543210fedcba9876543210";
const INSTALL_SH = join(PROJECT, "deploy", "install.sh");
const UNIT_FILE = join(PROJECT, "deploy", "sensor-agent.service");

const noSandbox = await sandboxUnavailable();
if (noSandbox !== undefined) {
  console.log(`skipped: backend_test.ts (the install command run for real): ${noSandbox}`);
}

/** The SHA-256 of a file, as sha256sum prints it. */
async function fileSha256(path: string): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path))).toHex();
}
const DIGESTS = { "install.sh": await fileSha256(INSTALL_SH), "sensor-agent.service": "" };
DIGESTS["sensor-agent.service"] = await fileSha256(UNIT_FILE);
const DEV_NOTICE =
  "echo 'DEVELOPMENT ONLY: this backend is plain http; do not install a real sensor with it' >&2 && ";

/**
 * The install command, spelled out here independently of reference-backend/install.ts; `dev`
 * for a backend with DEV_INSECURE_HTTP=1 (the default of tests/support/refbackend.ts).
 */
function expectedCommand(backendUrl: string, binary?: AgentBinary, dev = true): string {
  const source = binary === undefined
    ? "--binary ./sensor-agent"
    : `--binary '${binary.url}' --sha256 '${binary.sha256}'`;
  return (dev ? DEV_NOTICE : "") +
    `curl -fsSL --fail-early -o install.sh '${backendUrl}/install.sh' ` +
    `-o sensor-agent.service '${backendUrl}/sensor-agent.service' && ` +
    `printf '%s\\n' '${DIGESTS["install.sh"]}  install.sh' ` +
    `'${DIGESTS["sensor-agent.service"]}  sensor-agent.service' | sha256sum -c - && ` +
    `sudo bash install.sh --backend-url '${backendUrl}' ${source}`;
}

/**
 * The argv of each program `command` runs, as bash parses it: curl and sudo are replaced by shell
 * functions that print their words, so nothing is downloaded or run as root.
 */
async function argvOf(command: string): Promise<string[][]> {
  const script =
    `show() { local word; for word in "$@"; do printf '%s\\0' "$word"; done; printf '\\n'; }
curl() { show curl "$@"; }
sudo() { show sudo "$@"; }
sha256sum() { show sha256sum "$@"; local line; while IFS= read -r line; do show "$line"; done; }
${command}`;
  const output = await new Deno.Command("bash", {
    args: ["--norc", "--noprofile", "-c", script],
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout).split("\n").filter((line) => line !== "")
    .map((line) => line.split("\0").slice(0, -1));
}

/** The SHA-256 of `text`, as sha256sum prints it. */
async function sha256Hex(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return new Uint8Array(hash).toHex();
}

/** Mints a token and enrolls the seed's example with it; returns the token and the reply data. */
async function enrolled(backend: RefBackend, machineId?: string) {
  const installToken = await backend.mint();
  const key = machineId === undefined ? undefined : await keyFor(installToken, machineId);
  const answer = await backend.enroll(seedPayload(installToken), key);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return { installToken, key, ...answer.body.data as { sensorId: string; sensorToken: string } };
}

// --- starting ---------------------------------------------------------------------------------

Deno.test("backend: refuses to start without ADMIN_TOKEN, in one line, exit 78", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--no-prompt",
      "--unstable-kv",
      ...backendPermissionFlags("/nonexistent"),
      `${PROJECT}/reference-backend/main.ts`,
    ],
    env: { PORT: "0", NO_COLOR: "1", ...keptEnv() },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 78);
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.match(stderr, /^error: ADMIN_TOKEN is not set.*Set it to a long random secret/);
});

Deno.test("backend: `deno task backend` grants what the launcher grants, for .backend-data", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${PROJECT}/deno.json`));
  const task = (config.tasks.backend as string).split(" ");
  assert.deepEqual(task.slice(0, 4), ["deno", "run", "-q", "--unstable-kv"]);
  assert.deepEqual(task.slice(4, -1), backendPermissionFlags(".backend-data"));
  assert.equal(task.at(-1), "reference-backend/main.ts");
  // Read: the store, and the two files the install command downloads; nothing else.
  assert.ok(
    task.includes("--allow-read=.backend-data,deploy/install.sh,deploy/sensor-agent.service"),
  );
  assert.ok(task.includes("--allow-write=.backend-data"));
});

Deno.test("backend: SIGTERM stops it with exit 0", async () => {
  const backend = await startRefBackend();
  const { code, output } = await backend.stop();
  await backend[Symbol.asyncDispose]();
  assert.equal(code, 0, output);
  assert.match(output, /stopped by a signal/);
});

// --- install tokens ---------------------------------------------------------------------------

Deno.test("install tokens: minting without the admin token is 401", async () => {
  await using backend = await startRefBackend();
  for (const bearer of [null, "not-the-admin-token-at-all", `${backend.adminToken}x`]) {
    const answer = await backend.call("POST", "/api/install-tokens", {}, bearer);
    assert.equal(answer.status, 401, String(bearer));
    assert.deepEqual(answer.body, { success: false, error: "admin token required" });
  }
  const basic = await backend.call("POST", "/api/install-tokens", {}, null, {
    Authorization: `Basic ${btoa(`admin:${backend.adminToken}`)}`,
  });
  assert.equal(basic.status, 401);
});

Deno.test("install tokens: the admin gets a token, its expiry (1 h by default) and a command without it", async () => {
  await using backend = await startRefBackend();
  const before = Date.now();
  const answer = await backend.call("POST", "/api/install-tokens");
  assert.equal(answer.status, 201);
  const { installToken, expiresAt, installCommand } = answer.body.data;
  assert.match(installToken, /^[A-Za-z0-9_-]{43}$/);
  const expiry = Date.parse(expiresAt) - before;
  assert.ok(expiry >= 3_599_000 && expiry <= 3_610_000, `${expiry} ms`);
  assert.ok(!installCommand.includes(installToken), "the command never holds the token");
  assert.equal(installCommand, expectedCommand(backend.url));
  const short = await backend.call("POST", "/api/install-tokens", { ttlSeconds: 60, note: "lab" });
  const shortExpiry = Date.parse(short.body.data.expiresAt) - before;
  assert.ok(shortExpiry >= 59_000 && shortExpiry <= 70_000, `${shortExpiry} ms`);
});

Deno.test("install tokens: a bad ttlSeconds, note or field is 400 naming it", async () => {
  await using backend = await startRefBackend();
  const cases: [unknown, RegExp][] = [
    [{ ttlSeconds: 0 }, /^ttlSeconds: /],
    [{ ttlSeconds: 1.5 }, /^ttlSeconds: /],
    [{ ttlSeconds: "60" }, /^ttlSeconds: /],
    [{ note: 7 }, /^note: /],
    [{ ttl: 60 }, /unknown field "ttl"/],
    [[], /^body: must be a JSON object/],
  ];
  for (const [body, reason] of cases) {
    const answer = await backend.call("POST", "/api/install-tokens", body);
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.match(answer.body.error, reason);
  }
});

// --- the install one-liner and the files it downloads ---------------------------------------------

Deno.test("install command: with AGENT_BINARY_URL set, install.sh downloads it and checks its SHA-256", async () => {
  const binary = {
    url: "https://downloads.example/sensor-agent-2.0.0",
    sha256: "ab".repeat(32),
  };
  await using backend = await startRefBackend(30, binary);
  const answer = await backend.call("POST", "/api/install-tokens");
  assert.equal(answer.status, 201);
  assert.equal(answer.body.data.installCommand, expectedCommand(backend.url, binary));
});

Deno.test("downloads: GET /install.sh and /sensor-agent.service serve deploy/'s files byte for byte, to anyone", async () => {
  await using backend = await startRefBackend();
  for (const [path, file] of [["/install.sh", INSTALL_SH], ["/sensor-agent.service", UNIT_FILE]]) {
    const response = await fetch(`${backend.url}${path}`); // no Authorization header
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    const served = new Uint8Array(await response.arrayBuffer());
    assert.deepEqual(served, await Deno.readFile(file), `${path} is ${file}, byte for byte`);
    const head = await fetch(`${backend.url}${path}`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(served.length));
    await head.body?.cancel();
    const post = await fetch(`${backend.url}${path}`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
  }
  assert.equal((await backend.call("GET", "/deploy/install.sh", undefined, null)).status, 404);
});

Deno.test("downloads: a file missing at start is left out, and its route answers 404", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("deploy"));
  await Deno.writeTextFile(dir.join("deploy/install.sh"), "#!/usr/bin/env bash\n");
  const missing: string[] = [];
  const downloads = await loadDownloads(
    dir.path,
    (route, path) => missing.push(`${route} ${path}`),
  );
  assert.deepEqual([...downloads.keys()], ["/install.sh"]);
  assert.deepEqual(missing, ["/sensor-agent.service deploy/sensor-agent.service"]);
  const handler = createHandler({
    store: {} as Store, // not reached by these routes
    adminToken: "0123456789abcdef",
    heartbeatIntervalSeconds: 30,
    publicUrl: "http://127.0.0.1:5009",
    downloads,
  });
  const logged: string[] = [];
  setLogOptions({ write: (line) => logged.push(line) });
  try {
    const unit = await handler(new Request("http://127.0.0.1:5009/sensor-agent.service"));
    assert.equal(unit.status, 404);
    assert.equal((await unit.json()).success, false);
    const script = await handler(new Request("http://127.0.0.1:5009/install.sh"));
    assert.equal(script.status, 200);
    assert.equal(await script.text(), "#!/usr/bin/env bash\n");
  } finally {
    setLogOptions({ write: (line) => console.error(line) });
  }
  assert.match(logged.join("\n"), /GET \/sensor-agent\.service refused status=404/);
});

/**
 * Runs what the backend printed inside the installer's sandbox (tests/support/sandbox.ts), as root,
 * from /state, with `sudo` a function that runs its command (the sandbox is root already) and the
 * install token in INSTALL_TOKEN, which stands in for the hidden prompt. Returns the run's output.
 */
async function runPrinted(sandbox: Sandbox, command: string, installToken: string) {
  const output = await sandbox.command(
    ["bash", "--norc", "--noprofile", "-c", `sudo() { "$@"; }; cd /state && ${command}`],
    { env: { INSTALL_TOKEN: installToken }, loopback: true },
  ).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assertNoTokens(text);
  assert.equal(output.code, 0, text);
  return text;
}

/** What the printed command must have left: both files fetched, the unit and config installed. */
async function assertInstalled(
  sandbox: Sandbox,
  backend: RefBackend,
  installToken: string,
  binary: string,
) {
  assert.deepEqual(
    await Deno.readFile(sandbox.host("/state/install.sh")),
    await Deno.readFile(INSTALL_SH),
  );
  assert.deepEqual(
    await Deno.readFile(sandbox.host("/etc/systemd/system/sensor-agent.service")),
    await Deno.readFile(UNIT_FILE),
  );
  assert.equal(await Deno.readTextFile(sandbox.host("/usr/local/bin/sensor-agent")), binary);
  const conf = sandbox.host("/etc/ravenxcope/sensor-agent.env");
  const values = envValues(parseEnvFile(await Deno.readTextFile(conf), conf));
  assert.equal(values.get("BACKEND_URL"), backend.url);
  assert.equal(values.get("INSTALL_TOKEN"), installToken);
}

Deno.test({
  name: "install command: run as printed, it installs ./sensor-agent with deploy/'s unit",
  ignore: noSandbox !== undefined,
  fn: async () => {
    await using backend = await startRefBackend();
    await using sandbox = await createSandbox();
    const minted = await backend.call("POST", "/api/install-tokens");
    const binary = fakeAgent("copied beside install.sh");
    await Deno.writeTextFile(sandbox.host("/state/sensor-agent"), binary, { mode: 0o755 });
    const text = await runPrinted(
      sandbox,
      minted.body.data.installCommand,
      minted.body.data.installToken,
    );
    assert.match(text, /install token: from INSTALL_TOKEN in the environment, fingerprint /);
    await assertInstalled(sandbox, backend, minted.body.data.installToken, binary);
  },
});

Deno.test({
  name: "install command: run as printed with AGENT_BINARY_URL, it downloads and checks the binary",
  ignore: noSandbox !== undefined,
  fn: async () => {
    const binary = fakeAgent("downloaded from AGENT_BINARY_URL");
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response(binary),
    );
    try {
      await using backend = await startRefBackend(30, {
        url: `http://127.0.0.1:${server.addr.port}/sensor-agent`,
        sha256: await sha256Hex(binary),
      });
      await using sandbox = await createSandbox();
      const minted = await backend.call("POST", "/api/install-tokens");
      const text = await runPrinted(
        sandbox,
        minted.body.data.installCommand,
        minted.body.data.installToken,
      );
      assert.match(text, /downloading http:\/\/127\.0\.0\.1:\d+\/sensor-agent/);
      await assertInstalled(sandbox, backend, minted.body.data.installToken, binary);
    } finally {
      await server.shutdown();
    }
  },
});

// --- enrollment -------------------------------------------------------------------------------

Deno.test("enroll: the seed's example gets a sensor id, a 256-bit token in the contract's charset and the interval", async () => {
  await using backend = await startRefBackend(7);
  const installToken = await backend.mint();
  const answer = await backend.enroll(
    seedPayload(installToken),
    await keyFor(installToken, MACHINE_A),
  );
  assert.equal(answer.status, 200);
  assert.equal(answer.body.success, true);
  const data = answer.body.data;
  assert.deepEqual(Object.keys(data), [
    "sensorId",
    "sensorToken",
    "backendUrl",
    "heartbeatIntervalSeconds",
  ]);
  assert.match(
    data.sensorId,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.match(data.sensorToken, SENSOR_TOKEN_PATTERN);
  assert.match(data.sensorToken, /^[A-Za-z0-9_-]{43}$/, "base64url of 32 bytes");
  assert.equal(data.backendUrl, backend.url);
  assert.equal(data.heartbeatIntervalSeconds, 7);
});

/** Nineteen losing enrollments from one address pass the per-address failure limit (10 by default),
 * which would answer some of them 429 before their token is even looked at. */
const RACE_LIMITS = { env: { ENROLL_FAILURE_LIMIT: "100" } };

Deno.test("enroll: 20 concurrent enrollments with one token: exactly one 200, the others 401", async () => {
  await using backend = await startRefBackend(30, undefined, RACE_LIMITS);
  const installToken = await backend.mint();
  // Twenty machines racing with one leaked token: each sends its own Idempotency-Key.
  const answers = await Promise.all(
    Array.from(
      { length: 20 },
      async (_, i) =>
        backend.enroll(seedPayload(installToken), await keyFor(installToken, `machine-${i}`)),
    ),
  );
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [200, ...Array(19).fill(401)]);
  assert.equal((await backend.fleet()).length, 1);
});

Deno.test("enroll: 20 concurrent enrollments with one token and no key: exactly one 200", async () => {
  await using backend = await startRefBackend(30, undefined, RACE_LIMITS);
  const installToken = await backend.mint();
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => backend.enroll(seedPayload(installToken))),
  );
  assert.equal(answers.filter((a) => a.status === 200).length, 1);
  assert.equal(answers.filter((a) => a.status === 401).length, 19);
});

Deno.test("enroll: a retry with the consuming request's Idempotency-Key gets the same credential", async () => {
  await using backend = await startRefBackend();
  const first = await enrolled(backend, MACHINE_A);
  const retry = await backend.enroll(seedPayload(first.installToken), first.key);
  assert.equal(retry.status, 200);
  assert.equal(retry.body.data.sensorId, first.sensorId);
  assert.equal(retry.body.data.sensorToken, first.sensorToken);
  assert.equal((await backend.fleet()).length, 1, "no second sensor");
  assert.equal((await backend.beat(retry.body.data.sensorToken)).status, 200);
});

Deno.test("enroll: 20 concurrent requests with one token and one key all get the one credential", async () => {
  await using backend = await startRefBackend();
  const installToken = await backend.mint();
  const key = await keyFor(installToken, MACHINE_A);
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => backend.enroll(seedPayload(installToken), key)),
  );
  assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200));
  assert.equal(new Set(answers.map((a) => a.body.data.sensorToken)).size, 1);
  assert.equal(new Set(answers.map((a) => a.body.data.sensorId)).size, 1);
  assert.equal((await backend.fleet()).length, 1);
});

Deno.test("enroll: a spent token without the key, or with another key, is 401", async () => {
  await using backend = await startRefBackend();
  const first = await enrolled(backend, MACHINE_A);
  const payload = seedPayload(first.installToken);
  const noKey = await backend.enroll(payload);
  const otherKey = await backend.enroll(payload, await keyFor(first.installToken, MACHINE_B));
  for (const answer of [noKey, otherKey]) {
    assert.equal(answer.status, 401);
    assert.deepEqual(answer.body, {
      success: false,
      error: "install token unknown, expired or already used",
    });
  }
});

Deno.test("enroll: a token spent by a request without a key is never replayed", async () => {
  await using backend = await startRefBackend();
  const first = await enrolled(backend);
  const retry = await backend.enroll(
    seedPayload(first.installToken),
    await keyFor(first.installToken, MACHINE_A),
  );
  assert.equal(retry.status, 401);
});

Deno.test("enroll: an expired or unknown install token is 401", async () => {
  await using backend = await startRefBackend();
  const installToken = await backend.mint({ ttlSeconds: 1 });
  await new Promise((done) => setTimeout(done, 1_100));
  assert.equal((await backend.enroll(seedPayload(installToken))).status, 401);
  assert.equal((await backend.enroll(seedPayload(randomToken()))).status, 401);
  assert.equal((await backend.fleet()).length, 0);
});

Deno.test("enroll: a malformed payload is 400 naming the field, and the token stays unspent", async () => {
  await using backend = await startRefBackend();
  const installToken = await backend.mint();
  const seed = seedPayload(installToken);
  const nic = (seed.interfaces as Record<string, unknown>[])[0];
  const cases: [unknown, RegExp][] = [
    [{ ...seed, sensorPort: 0 }, /^sensorPort: must be an integer 1-65535$/],
    [{ ...seed, sensorPort: "22" }, /^sensorPort: /],
    [{ ...seed, hostname: "" }, /^hostname: must not be empty$/],
    [{ ...seed, hostname: "a\nb" }, /^hostname: must not hold control characters$/],
    [{ ...seed, sensorIp: "sensor.example" }, /^sensorIp: must be an IPv4 or IPv6 address/],
    [{ ...seed, extra: true }, /^body: unknown field "extra"$/],
    [{ ...seed, interfaces: {} }, /^interfaces: must be an array$/],
    [{ ...seed, interfaces: [{ ...nic, isUp: "yes" }] }, /^interfaces\[0\]\.isUp: /],
    [{ ...seed, interfaces: [{ ...nic, bytesSent: -1 }] }, /^interfaces\[0\]\.bytesSent: /],
    [{ ...seed, interfaces: [{ ...nic, bytesRecv: 2 ** 53 }] }, /^interfaces\[0\]\.bytesRecv: /],
    [{ ...seed, interfaces: [{ ...nic, mtu: 1500 }] }, /^interfaces\[0\]: unknown field "mtu"$/],
    ["seed", /^body: must be a JSON object$/],
  ];
  const { installToken: _, ...withoutToken } = seed;
  cases.push([withoutToken, /^body: missing field "installToken"$/]);
  for (const [body, reason] of cases) {
    const answer = await backend.enroll(body);
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.match(answer.body.error, reason);
  }
  const post = (body: string, type?: string) =>
    fetch(`${backend.url}/api/sensors/enroll`, {
      method: "POST",
      body,
      headers: type === undefined ? {} : { "Content-Type": type },
    });
  const notJson = await post("{", "application/json");
  assert.equal(notJson.status, 400);
  await notJson.body?.cancel();
  // JSON only: a form post, or text without a type (fetch says text/plain), is refused unread.
  for (const type of [undefined, "application/x-www-form-urlencoded", "text/json"]) {
    const refused = await post(JSON.stringify(seed), type);
    assert.equal(refused.status, 415, type);
    assert.match((await refused.json()).error, /Content-Type: application\/json/);
  }
  const badKey = await backend.enroll(seed, "NOT-HEX");
  assert.equal(badKey.status, 400);
  assert.match(badKey.body.error, /^Idempotency-Key: /);
  assert.equal((await backend.enroll(seed)).status, 200, "the token was not spent by a 400");
});

Deno.test("enroll: a body over 1 MiB is 413", async () => {
  await using backend = await startRefBackend();
  const installToken = await backend.mint();
  const huge = { ...seedPayload(installToken), osInfo: "x".repeat(1024 * 1024) };
  const answer = await backend.enroll(huge);
  assert.equal(answer.status, 413);
  // Without Content-Length (chunked), the cap holds while reading.
  const stream = new Blob([JSON.stringify(huge)]).stream();
  const chunked = await fetch(`${backend.url}/api/sensors/enroll`, {
    method: "POST",
    body: stream,
    headers: { "Content-Type": "application/json" },
  });
  assert.equal(chunked.status, 413);
  await chunked.body?.cancel();
  assert.equal((await backend.enroll(seedPayload(installToken))).status, 200);
});

// --- heartbeats, fleet, revocation -------------------------------------------------------------

Deno.test("heartbeat: an issued token is 200; last seen, sensorIp and counters are recorded", async () => {
  await using backend = await startRefBackend(5);
  const sensor = await enrolled(backend, MACHINE_A);
  const body: Record<string, unknown> = {
    ...heartbeatBody(5_000_000_000),
    sensorIp: "10.10.10.71",
  };
  const answer = await backend.beat(sensor.sensorToken, body);
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body, { success: true, data: { heartbeatIntervalSeconds: 5 } });
  const detail = await backend.call("GET", `/api/sensors/${sensor.sensorId}`);
  assert.equal(detail.status, 200);
  const shown = detail.body.data;
  assert.equal(shown.sensorIp, "10.10.10.71");
  assert.equal(shown.label, "sensor-1");
  assert.equal(shown.heartbeats, 1);
  assert.equal(shown.uptimeSeconds, 42);
  assert.equal(shown.interfaces[0].bytesSent, 5_000_000_000);
  assert.deepEqual(shown.interfaces, body.interfaces);
  assert.ok(Date.parse(shown.lastSeenAt) >= Date.parse(shown.enrolledAt));
});

Deno.test("heartbeat: a forged token, or none, is 401; a bad body from a sensor is 400", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrolled(backend);
  assert.equal((await backend.beat(randomToken())).status, 401);
  const none = await backend.call("POST", "/api/sensors/heartbeat", heartbeatBody(), null);
  assert.equal(none.status, 401);
  const bad = await backend.beat(sensor.sensorToken, { ...heartbeatBody(), uptimeSeconds: -1 });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /^uptimeSeconds: /);
});

Deno.test("heartbeat: thousands of interfaces are stored and shown whole", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrolled(backend);
  const nic = (heartbeatBody().interfaces as Record<string, unknown>[])[1];
  const interfaces = Array.from({ length: 6000 }, (_, i) => ({
    ...nic,
    name: `veth${String(i).padStart(8, "0")}`,
    bytesSent: i * 1_000_003,
  }));
  const body = { ...heartbeatBody(), interfaces };
  assert.ok(JSON.stringify(body).length < 1024 * 1024);
  assert.equal((await backend.beat(sensor.sensorToken, body)).status, 200);
  const shown = (await backend.call("GET", `/api/sensors/${sensor.sensorId}`)).body.data;
  assert.deepEqual(shown.interfaces, interfaces);
  // A shorter list replaces it, leaving no slice of the old one behind.
  assert.equal((await backend.beat(sensor.sensorToken)).status, 200);
  const after = (await backend.call("GET", `/api/sensors/${sensor.sensorId}`)).body.data;
  assert.deepEqual(after.interfaces, heartbeatBody().interfaces);
});

Deno.test("fleet: lists id, hostname, sensorIp, enrolled at, last seen and online; admin only", async () => {
  await using backend = await startRefBackend(1);
  const sensor = await enrolled(backend);
  assert.equal((await backend.beat(sensor.sensorToken)).status, 200);
  const [shown] = await backend.fleet();
  assert.equal(shown.id, sensor.sensorId);
  assert.equal(shown.hostname, "sensor-ubuntu-host");
  assert.equal(shown.sensorIp, "192.168.1.100");
  assert.ok(!Number.isNaN(Date.parse(shown.enrolledAt)));
  assert.ok(!Number.isNaN(Date.parse(shown.lastSeenAt)));
  assert.equal(shown.online, true);
  assert.equal(shown.revokedAt, null);
  for (const key of Object.keys(shown)) assert.doesNotMatch(key, /digest|token/i);
  assert.equal((await backend.call("GET", "/api/sensors", undefined, null)).status, 401);
  const asSensor = await backend.call("GET", "/api/sensors", undefined, sensor.sensorToken);
  assert.equal(asSensor.status, 401);
  // Silent for more than three intervals: offline.
  await new Promise((done) => setTimeout(done, ONLINE_INTERVALS * 1_000 + 300));
  assert.equal((await backend.fleet())[0].online, false);
});

Deno.test("revoke: the sensor's next heartbeat is 401, and the fleet shows it revoked and offline", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrolled(backend);
  assert.equal((await backend.beat(sensor.sensorToken)).status, 200);
  const revoked = await backend.call("POST", `/api/sensors/${sensor.sensorId}/revoke`);
  assert.equal(revoked.status, 200);
  assert.ok(revoked.body.data.revokedAt);
  assert.equal((await backend.beat(sensor.sensorToken)).status, 401);
  const [shown] = await backend.fleet();
  assert.equal(shown.online, false);
  assert.equal(shown.revokedAt, revoked.body.data.revokedAt);
  const again = await backend.call("POST", `/api/sensors/${sensor.sensorId}/revoke`);
  assert.equal(again.body.data.revokedAt, revoked.body.data.revokedAt, "revoking twice is a no-op");
});

Deno.test("revoke: a retried enrollment after revocation is 401", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrolled(backend, MACHINE_A);
  await backend.call("POST", `/api/sensors/${sensor.sensorId}/revoke`);
  const retry = await backend.enroll(seedPayload(sensor.installToken), sensor.key);
  assert.equal(retry.status, 401);
});

Deno.test("revoke: needs the admin token; an unknown sensor is 404", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrolled(backend);
  const path = `/api/sensors/${sensor.sensorId}/revoke`;
  assert.equal((await backend.call("POST", path, undefined, null)).status, 401);
  assert.equal((await backend.call("POST", path, undefined, sensor.sensorToken)).status, 401);
  assert.equal((await backend.beat(sensor.sensorToken)).status, 200, "still enrolled");
  const unknown = await backend.call("POST", `/api/sensors/${crypto.randomUUID()}/revoke`);
  assert.equal(unknown.status, 404);
});

Deno.test("routes: an unknown path is 404 and a wrong method 405 with Allow", async () => {
  await using backend = await startRefBackend();
  assert.equal((await backend.call("GET", "/api/nothing")).status, 404);
  const head = await fetch(`${backend.url}/api/sensors/heartbeat`, { method: "HEAD" });
  assert.equal(head.status, 405, "`status --check` gets an answer");
  assert.equal(head.headers.get("allow"), "POST");
  await head.body?.cancel();
});

Deno.test("store: no token and no Idempotency-Key is in clear in the KV files", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrolled(backend, MACHINE_A); // with a key: the sealed replay record exists
  assert.equal((await backend.beat(sensor.sensorToken)).status, 200);
  const unspent = await backend.mint();
  assert.equal((await backend.stop()).code, 0);
  const secrets = [
    backend.adminToken,
    sensor.installToken,
    sensor.sensorToken,
    unspent,
    sensor.key!,
  ];
  let scanned = 0;
  for await (const entry of Deno.readDir(backend.dataDir)) {
    const bytes = await Deno.readFile(`${backend.dataDir}/${entry.name}`);
    scanned += bytes.length;
    // V8 serialises an ASCII string as Latin-1; scan UTF-16 too in case one is stored two-byte.
    const latin1 = new TextDecoder("latin1").decode(bytes);
    const utf16 = new TextDecoder("utf-16le").decode(bytes) +
      new TextDecoder("utf-16le").decode(bytes.subarray(1));
    for (const secret of secrets) {
      assert.ok(!latin1.includes(secret) && !utf16.includes(secret), `${entry.name} holds one`);
    }
  }
  assert.ok(scanned > 0, "the store was written");
  // What the store does hold: the digests by which it finds tokens.
  const all = new TextDecoder("latin1").decode(
    await Deno.readFile(`${backend.dataDir}/kv.sqlite3`),
  );
  assert.ok(all.includes(digest(sensor.sensorToken)));
});

// --- the pure modules, in process --------------------------------------------------------------

Deno.test("validate: the seed's example and a heartbeat pass as they are", () => {
  const seed = seedPayload("install-token-value");
  assert.deepEqual(checkEnrollment(seed), { ok: true, value: seed });
  assert.deepEqual(checkHeartbeat(heartbeatBody()), { ok: true, value: heartbeatBody() });
  assert.deepEqual(checkHeartbeat({ ...heartbeatBody(), sensorLabel: null }).ok, true);
  assert.deepEqual(checkEnrollment({ ...seed, sensorIp: "" }).ok, true, "no address found");
  assert.deepEqual(checkEnrollment({ ...seed, sensorIp: "fe80::1" }).ok, true);
});

Deno.test("validate: mint requests default to one hour; keys are 64 lowercase hex digits", async () => {
  assert.deepEqual(checkMintRequest(undefined), {
    ok: true,
    value: { ttlSeconds: 3600, note: undefined },
  });
  assert.equal(checkMintRequest({ ttlSeconds: 7 * 86_400 + 1 }).ok, false);
  assert.deepEqual(checkIdempotencyKey(null), { ok: true, value: undefined });
  const key = await keyFor("t", "m");
  assert.equal(checkIdempotencyKey(key).ok, true);
  assert.equal(checkIdempotencyKey(key.toUpperCase()).ok, false);
});

Deno.test("replay: only with the consuming request's key, within 10 minutes", async () => {
  const key = digest(await keyFor("install", MACHINE_A));
  const consumption = { at: 1_000_000, sensorId: "s", idempotencyKeyDigest: key };
  assert.equal(replayRefusal(consumption, key, consumption.at), undefined);
  assert.equal(replayRefusal(consumption, key, consumption.at + REPLAY_WINDOW_MS), undefined);
  assert.match(replayRefusal(consumption, key, consumption.at + REPLAY_WINDOW_MS + 1)!, /window/);
  assert.match(replayRefusal(consumption, null, consumption.at)!, /no Idempotency-Key/);
  assert.match(
    replayRefusal(consumption, digest(await keyFor("install", MACHINE_B)), consumption.at)!,
    /another Idempotency-Key/,
  );
  assert.match(
    replayRefusal({ ...consumption, idempotencyKeyDigest: null }, key, consumption.at)!,
    /without Idempotency-Key/,
  );
});

Deno.test("tokens: a sealed sensor token opens only with its install token and sensor id", async () => {
  const sensorToken = randomToken();
  const sealed = await seal(sensorToken, "install-a", "sensor-1");
  assert.ok(!new TextDecoder("latin1").decode(sealed.ciphertext).includes(sensorToken));
  assert.equal(await unseal(sealed, "install-a", "sensor-1"), sensorToken);
  await assert.rejects(unseal(sealed, "install-b", "sensor-1"));
  await assert.rejects(unseal(sealed, "install-a", "sensor-2"));
  assert.notEqual(randomToken(), randomToken());
});

Deno.test("interfaces: packing round-trips, each slice within a KV value", () => {
  const list = Array.from({ length: 9000 }, (_, i) => ({
    name: `ens${i}\u00e9"\\`,
    isManagement: i === 1,
    isLoopback: i % 2 === 0,
    isVirtual: i % 3 === 0,
    isWireless: i % 5 === 0,
    isUp: i % 7 !== 0,
    bytesSent: Number.MAX_SAFE_INTEGER - i,
    bytesRecv: i,
  }));
  const chunks = packInterfaces(list);
  assert.ok(chunks.length > 1);
  for (const chunk of chunks) assert.ok(chunk.length <= 60_000);
  assert.deepEqual(unpackInterfaces(chunks), list);
  assert.deepEqual(packInterfaces([]), []);
});

Deno.test("settings: ADMIN_TOKEN is required and long; defaults for the rest", () => {
  const from = (env: Record<string, string>) => () => readSettings((name) => env[name]);
  assert.throws(from({}), SettingsError);
  assert.throws(from({ ADMIN_TOKEN: "short" }), /at least 16 characters/);
  const settings = readSettings((name) =>
    ({ ADMIN_TOKEN: "0123456789abcdef", DEV_INSECURE_HTTP: "1" } as Record<string, string>)[name]
  );
  assert.equal(settings.port, 5009);
  assert.equal(settings.data, "./.backend-data");
  assert.equal(settings.heartbeatIntervalSeconds, 30);
  assert.equal(settings.publicUrl, undefined);
  assert.equal(settings.insecureHttp, true);
  assert.deepEqual(settings.trustedProxies, new Set());
  assert.deepEqual(settings.enrollFailures, { limit: 10, windowMs: 600_000 });
  const admin = { ADMIN_TOKEN: "0123456789abcdef", DEV_INSECURE_HTTP: "1" };
  assert.throws(from({ ...admin, PORT: "65536" }), /PORT must be a whole number/);
  assert.throws(from({ ...admin, HEARTBEAT_INTERVAL_SECONDS: "0" }), /HEARTBEAT_INTERVAL_SECONDS/);
  assert.throws(from({ ...admin, PUBLIC_URL: "ftp://x" }), /PUBLIC_URL/);
  assert.throws(from({ ...admin, PUBLIC_URL: "https://u:p@x" }), /without credentials/);
  // What the agent and install.sh would refuse as BACKEND_URL.
  for (const url of ["https://x/?a=1", "https://x/#top", "https://x/it's"]) {
    assert.throws(from({ ...admin, PUBLIC_URL: url }), /query, a fragment or a single quote/, url);
  }
  assert.equal(
    readSettings((name) =>
      ({ ...admin, PUBLIC_URL: "https://x:8443/rx/" } as Record<string, string>)[name]
    ).publicUrl,
    "https://x:8443/rx",
  );
});

Deno.test("settings: AGENT_BINARY_URL and AGENT_BINARY_SHA256 go together, checked", () => {
  const admin = { ADMIN_TOKEN: "0123456789abcdef", PUBLIC_URL: "https://rx.example" };
  const read = (env: Record<string, string>) =>
    readSettings((name) => ({ ...admin, ...env } as Record<string, string>)[name]);
  const sha256 = "0123456789ABCDEF".repeat(4);
  assert.equal(read({}).agentBinary, undefined);
  assert.deepEqual(
    read({ AGENT_BINARY_URL: "https://dl.example/agent", AGENT_BINARY_SHA256: sha256 }).agentBinary,
    {
      url: "https://dl.example/agent",
      sha256: sha256.toLowerCase(),
    },
  );
  const refused: [Record<string, string>, RegExp][] = [
    [{ AGENT_BINARY_URL: "https://dl.example/agent" }, /without AGENT_BINARY_SHA256/],
    [{ AGENT_BINARY_SHA256: sha256 }, /without AGENT_BINARY_URL/],
    [
      { AGENT_BINARY_URL: "ftp://dl.example/a", AGENT_BINARY_SHA256: sha256 },
      /http:\/\/ or https:\/\//,
    ],
    [{ AGENT_BINARY_URL: "dl.example/a", AGENT_BINARY_SHA256: sha256 }, /absolute/],
    [
      { AGENT_BINARY_URL: "https://u:p@dl.example/a", AGENT_BINARY_SHA256: sha256 },
      /without credentials/,
    ],
    [
      { AGENT_BINARY_URL: "https://dl.example/a", AGENT_BINARY_SHA256: sha256.slice(1) },
      /64 hex digits/,
    ],
    [
      { AGENT_BINARY_URL: "https://dl.example/a", AGENT_BINARY_SHA256: `${sha256.slice(1)}g` },
      /64 hex digits/,
    ],
  ];
  for (const [env, reason] of refused) {
    assert.throws(() => read(env), SettingsError, JSON.stringify(env));
    assert.throws(() => read(env), reason, JSON.stringify(env));
  }
});

Deno.test("install command: bash parses it into exactly the words install.sh takes, and no token", async () => {
  const odd = "https://rx.example/it's $(reboot) `id` \\ x";
  const binary = { url: "https://dl.example/a'b c", sha256: "cd".repeat(32) };
  for (
    const [backendUrl, given] of [["http://127.0.0.1:5009", undefined], [odd, binary]] as const
  ) {
    const dev = backendUrl.startsWith("http:");
    const command = installCommand(backendUrl, DIGESTS, given, dev);
    assert.equal(
      command,
      expectedCommand(
        backendUrl.replaceAll("'", "'\\''"),
        given && {
          ...given,
          url: given.url.replaceAll("'", "'\\''"),
        },
        dev,
      ),
    );
    // bash -n: the quoting holds.
    const check = await new Deno.Command("bash", { args: ["-n", "-c", command] }).output();
    assert.equal(check.code, 0, new TextDecoder().decode(check.stderr));
    // The token is typed at install.sh's hidden prompt: the command neither holds nor names it.
    assert.doesNotMatch(command, /TOKEN|read /);
    const source = given === undefined
      ? ["--binary", "./sensor-agent"]
      : ["--binary", given.url, "--sha256", given.sha256];
    assert.deepEqual(await argvOf(command), [
      [
        "curl",
        "-fsSL",
        "--fail-early",
        "-o",
        "install.sh",
        `${backendUrl}/install.sh`,
        "-o",
        "sensor-agent.service",
        `${backendUrl}/sensor-agent.service`,
      ],
      // sha256sum's function prints its words, then the lines it was given to check.
      ["sha256sum", "-c", "-"],
      [`${DIGESTS["install.sh"]}  install.sh`],
      [`${DIGESTS["sensor-agent.service"]}  sensor-agent.service`],
      ["sudo", "bash", "install.sh", "--backend-url", backendUrl, ...source],
    ]);
  }
});

Deno.test("install command: every option it passes is one deploy/install.sh documents", async () => {
  const help = await new Deno.Command("bash", { args: [INSTALL_SH, "--help"] }).output();
  assert.equal(help.code, 0);
  const usage = new TextDecoder().decode(help.stdout);
  const binary = { url: "https://dl.example/a", sha256: "ef".repeat(32) };
  const options = new Set<string>();
  for (
    const command of [
      installCommand("https://rx.example", DIGESTS),
      installCommand("https://rx.example", DIGESTS, binary),
    ]
  ) {
    const sudo = (await argvOf(command)).find((argv) => argv[0] === "sudo")!;
    assert.deepEqual(sudo.slice(0, 3), ["sudo", "bash", "install.sh"]);
    for (const word of sudo) if (word.startsWith("--")) options.add(word);
  }
  assert.deepEqual([...options].sort(), ["--backend-url", "--binary", "--sha256"]);
  for (const option of options) assert.match(usage, new RegExp(`^  ${option} `, "m"), option);
});
