// The reference backend's install command cannot be swapped, sensor text cannot forge what an
// operator reads (issue 14), a request reaches a route only by its plain path, the client is whom
// a trusted proxy names, and a body too large to store is a 413 (issue 20). Real backends on
// loopback, real bash, curl and sha256sum; the pure modules in process at the end.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Coalescer, TooManyWaiting } from "../reference-backend/store/mod.ts";
import { escapeForDisplay } from "../reference-backend/api/display.ts";
import { installCommand, PROJECT_ROOT } from "../reference-backend/install/mod.ts";
import { launchBackend } from "../reference-backend/launch.ts";
import {
  clientOf,
  FailureLimiter,
  GuessBackoff,
  isPlainPath,
  parseTrustedProxies,
} from "../reference-backend/http/mod.ts";
import {
  heartbeatBody,
  type RefBackend,
  seedPayload,
  startRefBackend,
} from "./support/refbackend.ts";
import { rawExchange } from "./support/rawhttp.ts";
import { tempDir } from "./support/tempdir.ts";

/**
 * Runs the install one-liner with bash in `dir`, `sudo` a function that only notes its words in
 * ./sudo-ran: whatever the command would have run as root is recorded, never run.
 */
async function runOneLiner(dir: string, command: string) {
  const output = await new Deno.Command("bash", {
    args: ["--norc", "--noprofile", "-c", `sudo() { printf '%s\\n' "$*" > sudo-ran; }; ${command}`],
    cwd: dir,
    env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  let sudo: string | undefined;
  try {
    sudo = await Deno.readTextFile(join(dir, "sudo-ran"));
  } catch {
    sudo = undefined;
  }
  return { code: output.code, text, sudo };
}

/** A copy of the backend's code and deploy/ in `root`, with `edit` applied to one served file. */
async function tamperedCopy(root: string, file: string, edit: (text: string) => string) {
  for (const dir of ["reference-backend", "lib", "deploy"]) {
    const copied = await new Deno.Command("cp", {
      args: ["-r", join(PROJECT_ROOT, dir), join(root, dir)],
    }).output();
    assert.ok(copied.success, `cp ${dir}`);
  }
  const path = join(root, "deploy", file);
  await Deno.writeTextFile(path, edit(await Deno.readTextFile(path)));
}

Deno.test("install command: install.sh or the unit swapped on the way is refused before anything runs", async () => {
  await using genuine = await startRefBackend();
  const minted = await genuine.call("POST", "/api/install-tokens");
  const command: string = minted.body.data.installCommand;
  // As printed, against the genuine backend: both files check out, and install.sh would run.
  await using good = await tempDir();
  const ran = await runOneLiner(good.path, command);
  assert.equal(ran.code, 0, ran.text);
  assert.match(ran.text, /^install\.sh: OK$/m);
  assert.match(ran.text, /^sensor-agent\.service: OK$/m);
  assert.equal(ran.sudo, `bash install.sh --backend-url ${genuine.url} --binary ./sensor-agent\n`);
  // The same command, its downloads served by a backend whose deploy/ files were changed: the
  // real backend, serving a modified file (as a mirror, a proxy or DNS could).
  for (const file of ["install.sh", "sensor-agent.service"]) {
    await using root = await tempDir();
    await tamperedCopy(root.path, file, (text) => text.replace("\n", "\ntouch /tmp/pwned\n"));
    await using store = await tempDir();
    await using swapped = await launchBackend({
      dataDir: store.path,
      adminToken: genuine.adminToken,
      root: root.path,
    });
    await using dir = await tempDir();
    const refused = await runOneLiner(dir.path, command.replaceAll(genuine.url, swapped.url));
    assert.notEqual(refused.code, 0, refused.text);
    assert.match(refused.text, new RegExp(`^${file.replace(".", "\\.")}: FAILED$`, "m"));
    assert.equal(refused.sudo, undefined, "nothing ran as root");
  }
});

Deno.test("install command: an http:// PUBLIC_URL is refused at start unless DEV_INSECURE_HTTP=1", async () => {
  await using store = await tempDir();
  const adminToken = crypto.randomUUID() + crypto.randomUUID();
  for (const env of [{ PUBLIC_URL: "http://rx.example:5009" }, { PUBLIC_URL: "" }]) {
    await assert.rejects(
      launchBackend({ dataDir: store.path, adminToken, env: { ...env, DEV_INSECURE_HTTP: "0" } }),
      /exited \(78\).*(PUBLIC_URL is http|PUBLIC_URL is not set).*DEV_INSECURE_HTTP=1/s,
    );
  }
  // With https, the command has no development notice and fetches over https only.
  await using backend = await launchBackend({
    dataDir: store.path,
    adminToken,
    env: { PUBLIC_URL: "https://rx.example:8443", DEV_INSECURE_HTTP: "0" },
  });
  const response = await fetch(`${backend.url}/api/install-tokens`, {
    method: "POST",
    headers: { Authorization: `Bearer ${adminToken}` },
  });
  const { installCommand: command } = (await response.json()).data;
  assert.match(command, /^curl -fsSL --fail-early -o install\.sh 'https:\/\/rx\.example:8443\//);
  assert.doesNotMatch(command, /http:|DEVELOPMENT/);
  // And the function itself refuses to print an http:// command without the flag.
  assert.throws(() => installCommand("http://rx.example", {}), /https/);
  assert.match(installCommand("http://127.0.0.1:5009", {}, undefined, true), /^echo 'DEVELOPMENT/);
});

Deno.test("display: a hostname with bidi and C1 characters is stored as received and logged escaped", async () => {
  await using backend = await startRefBackend();
  const hostname = "evil\u202Etxt.exe\u0085\u2066x";
  const answer = await backend.enroll({ ...seedPayload(await backend.mint()), hostname });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const [sensor] = await backend.fleet();
  assert.equal(sensor.hostname, hostname, "the store keeps it as received");
  const logged = backend.output();
  assert.ok(logged.includes("hostname=evil\\u202Etxt.exe\\u0085\\u2066x"), logged);
  assert.doesNotMatch(logged, /[\u202E\u0085\u2066]/);
});

Deno.test("display: escapeForDisplay escapes controls, bidi and format characters, and nothing else", () => {
  assert.equal(escapeForDisplay("sensor-01.example"), "sensor-01.example");
  assert.equal(escapeForDisplay("Zürich-東京-ñ"), "Zürich-東京-ñ");
  assert.equal(escapeForDisplay("a\nb\tc\u0000"), "a\\u000Ab\\u0009c\\u0000");
  assert.equal(escapeForDisplay("\u007f\u0080\u009f"), "\\u007F\\u0080\\u009F");
  assert.equal(
    escapeForDisplay("\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C"),
    "\\u202A\\u202B\\u202C\\u202D\\u202E\\u2066\\u2067\\u2068\\u2069\\u200E\\u200F\\u061C",
  );
  assert.equal(escapeForDisplay("\u200B\uFEFF\u2028\u2029"), "\\u200B\\uFEFF\\u2028\\u2029");
  assert.equal(escapeForDisplay("\uD800x\u{E0041}"), "\\uD800x\\u{E0041}");
  // A backslash is doubled, so the text `\u202E` cannot pass for an escaped override.
  assert.equal(escapeForDisplay("\\u202E"), "\\\\u202E");
});

Deno.test("coalesce: writes for one key run one at a time; the waiting ones are merged into one", async () => {
  const writes: number[][] = [];
  const gate = Promise.withResolvers<void>();
  const coalescer = new Coalescer<number[], string>(
    (earlier, later) => [...earlier, ...later],
    async (_key, item) => {
      writes.push(item);
      if (writes.length === 1) await gate.promise;
      return `write ${writes.length}`;
    },
    3,
  );
  const first = coalescer.submit("s", [1]);
  const waiting = [
    coalescer.submit("s", [2]),
    coalescer.submit("s", [3]),
    coalescer.submit("s", [4]),
  ];
  await assert.rejects(coalescer.submit("s", [5]), TooManyWaiting);
  gate.resolve();
  assert.equal(await first, "write 1");
  assert.deepEqual(await Promise.all(waiting), ["write 2", "write 2", "write 2"]);
  assert.deepEqual(writes, [[1], [2, 3, 4]]);
});

Deno.test("enroll limit: failures count per address in a window from the first one", () => {
  const limiter = new FailureLimiter({ limit: 2, windowMs: 1000 });
  assert.equal(limiter.retryAfterMs("a", 0), 0);
  limiter.fail("a", 0);
  limiter.fail("a", 100);
  assert.equal(limiter.retryAfterMs("a", 400), 600);
  assert.equal(limiter.retryAfterMs("b", 400), 0);
  assert.equal(limiter.retryAfterMs("a", 1000), 0, "a new window");
});

/** Raw bytes to the backend (no proxy); what came back within `ms` or before the close. */
async function exchange(backend: RefBackend, raw: string, ms = 2_000): Promise<string> {
  const port = Number(new URL(backend.url).port);
  return await rawExchange(await Deno.connect({ hostname: "127.0.0.1", port }), raw, ms);
}

Deno.test("routing: dot segments, percent-escapes, backslashes, a Host with a path or an absolute target are 400, never the admin route they decode to", async () => {
  await using backend = await startRefBackend();
  const admin = `Authorization: Bearer ${backend.adminToken}\r\n`;
  // The URL parser reads each of these as /api/sensors (or moves the path with the Host).
  for (
    const [target, host] of [
      ["/api/sensors/enroll/%2e%2e/%2e%2e/sensors", "localhost"],
      ["/api/sensors/enroll/../../sensors", "localhost"],
      ["/api\\sensors", "localhost"],
      ["/api/./sensors", "localhost"],
      ["//api/sensors", "localhost"],
      ["/api/sensor%73", "localhost"],
      ["/sensors", "localhost/api"],
      ["http://localhost/api/sensors", "elsewhere"],
    ]
  ) {
    const reply = await exchange(
      backend,
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${admin}Connection: close\r\n\r\n`,
    );
    assert.match(reply, /^HTTP\/1\.1 400 /, `${target} with Host ${host}`);
    assert.doesNotMatch(reply, /"sensors":/);
  }
  // The plain path itself, with a query, still works.
  const plain = await exchange(
    backend,
    `GET /api/sensors?x=1 HTTP/1.1\r\nHost: localhost\r\n${admin}Connection: close\r\n\r\n`,
  );
  assert.match(plain, /^HTTP\/1\.1 200 [\s\S]*"sensors":\[\]/);
  assert.doesNotMatch(
    backend.output(),
    /path must be plain.*%2e/,
    "the refused target is not logged",
  );
});

Deno.test("client address: X-Forwarded-For counts only from a TRUSTED_PROXIES address, and then per named client", async () => {
  await using backend = await startRefBackend(30, undefined, {
    env: { TRUSTED_PROXIES: "127.0.0.2", ENROLL_FAILURE_LIMIT: "2" },
  });
  assert.doesNotMatch(backend.output(), /development mode/);
  const guess = async (from: string, forwardedFor?: string) => {
    using client = Deno.createHttpClient({ localAddress: from });
    const response = await fetch(`${backend.url}/api/sensors/enroll`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        ...(forwardedFor === undefined ? {} : { "X-Forwarded-For": forwardedFor }),
      },
      body: JSON.stringify(seedPayload(`guess-${crypto.randomUUID()}`)),
      client,
    });
    await response.body?.cancel();
    return response.status;
  };
  // Not a trusted proxy: whatever it claims, it is 127.0.0.1 and is limited as one client.
  const direct = [];
  for (let i = 0; i < 3; i++) direct.push(await guess("127.0.0.1", `10.9.9.${i}`));
  assert.deepEqual(direct, [401, 401, 429]);
  // The trusted proxy: the last entry names the client, each limited on its own.
  const viaProxy = [
    await guess("127.0.0.2", "203.0.113.7, 10.0.0.1"),
    await guess("127.0.0.2", "10.0.0.1"),
    await guess("127.0.0.2", "10.0.0.1"),
    await guess("127.0.0.2", "10.0.0.2"),
  ];
  assert.deepEqual(viaProxy, [401, 401, 429, 401]);
  assert.match(backend.output(), /refused status=429 .*client=10\.0\.0\.1/);
  assert.doesNotMatch(backend.output(), /client=203\.0\.113\.7/);
  // A trusted proxy that names no client: its own address counts, and that is said once.
  await guess("127.0.0.2");
  await guess("127.0.0.2", "not an address");
  assert.equal(backend.output().match(/carried no valid X-Forwarded-For/g)?.length, 1);
});

Deno.test("backend alone: it says at start, in one line, that it is a development mode without the proxy's protections", async () => {
  await using backend = await startRefBackend();
  const lines = backend.output().split("\n").filter((line) => /development mode/.test(line));
  assert.equal(lines.length, 1, backend.output());
  assert.match(lines[0], /WARN .*TRUSTED_PROXIES.*reverse proxy.*deploy\/backend/);
});

Deno.test("store: a body within 1 MiB whose interfaces do not fit one store write is 413 naming the limit, never 500; the token is not spent", async () => {
  await using backend = await startRefBackend();
  // 2,043 interfaces named with 64 lone surrogates: each name is 384 bytes in JSON and in the
  // store alike, so the body stays under 1 MiB while the stored list passes 800,000 bytes.
  const interfaces = Array.from({ length: 2043 }, () => ({
    ...(seedPayload("x").interfaces as Record<string, unknown>[])[1],
    name: "\ud800".repeat(64),
  }));
  const installToken = await backend.mint();
  const body = { ...seedPayload(installToken), interfaces };
  assert.ok(JSON.stringify(body).length <= 1024 * 1024);
  const enrolled = await backend.enroll(body);
  assert.equal(enrolled.status, 413, JSON.stringify(enrolled.body));
  assert.match(enrolled.body.error, /2043 interfaces, \d+ bytes stored.*800000 bytes/);
  const sensor = await backend.enroll(seedPayload(installToken));
  assert.equal(sensor.status, 200, "the install token was not spent by the 413");
  const beat = await backend.beat(sensor.body.data.sensorToken, { ...heartbeatBody(), interfaces });
  assert.equal(beat.status, 413);
  assert.doesNotMatch(backend.output(), /status=500|failed:/);
});

Deno.test("backend alone: Deno.serve answers `Expect: 100-continue` before the handler runs; the size check follows (the proxy's job, reverse_proxy_test.ts)", async () => {
  await using backend = await startRefBackend();
  const reply = await exchange(
    backend,
    "POST /api/sensors/enroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
      "Content-Length: 2000000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
  );
  // What the docs say of development mode: a 100, then the 413 by Content-Length, body unread.
  assert.match(reply, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 413 /);
});

Deno.test("admin backoff: ten free wrong tokens, then a doubling wait capped at a minute; the right one resets it", () => {
  const backoff = new GuessBackoff({
    free: 3,
    firstWaitMs: 1_000,
    maxWaitMs: 4_000,
    forgetMs: 60_000,
  });
  for (let i = 0; i < 2; i++) backoff.fail("a", 0);
  assert.equal(backoff.retryAfterMs("a", 0), 0);
  backoff.fail("a", 0);
  assert.equal(backoff.retryAfterMs("a", 0), 1_000);
  backoff.fail("a", 1_000);
  assert.equal(backoff.retryAfterMs("a", 1_000), 2_000);
  backoff.fail("a", 3_000);
  backoff.fail("a", 7_000);
  assert.equal(backoff.retryAfterMs("a", 7_000), 4_000, "capped");
  assert.equal(backoff.retryAfterMs("b", 7_000), 0, "another address waits for nothing");
  backoff.succeed("a");
  assert.equal(backoff.retryAfterMs("a", 7_000), 0);
  backoff.fail("c", 0);
  backoff.fail("c", 0);
  backoff.fail("c", 0);
  assert.equal(backoff.retryAfterMs("c", 61_001), 0, "forgotten after a quiet while");
});

Deno.test("routing: a plain path is unreserved characters between single slashes, no segment of dots", () => {
  for (const path of ["/", "/api/sensors", "/console/", "/install.sh", "/a/b.c/d_e~f-g"]) {
    assert.ok(isPlainPath(path), path);
  }
  for (
    const path of [
      "",
      "api",
      "//",
      "/a//b",
      "/.",
      "/..",
      "/a/./b",
      "/a/../b",
      "/a/...",
      "/%2e",
      "/a\\b",
      "/a b",
      "/a#b",
      "/ä",
      "/a;b",
      "/a:b",
    ]
  ) {
    assert.ok(!isPlainPath(path), path);
  }
});

Deno.test("client address: TRUSTED_PROXIES is IP addresses, in one spelling each", () => {
  assert.deepEqual(parseTrustedProxies("127.0.0.1, ::1  10.0.0.2"), {
    addresses: new Set(["127.0.0.1", "::1", "10.0.0.2"]),
  });
  assert.deepEqual(parseTrustedProxies("0:0::1"), { addresses: new Set(["::1"]) });
  assert.deepEqual(parseTrustedProxies("proxy.example"), { bad: "proxy.example" });
  assert.deepEqual(parseTrustedProxies("10.0.0.0/8"), { bad: "10.0.0.0/8" });
  const request = (forwarded: string) =>
    new Request("http://x/", { headers: { "X-Forwarded-For": forwarded } });
  const trusted = new Set(["127.0.0.1"]);
  assert.deepEqual(clientOf(request("1.1.1.1"), "127.0.0.2", trusted), {
    address: "127.0.0.2",
    unnamed: false,
  });
  assert.deepEqual(clientOf(request("1.1.1.1, 0:0::5"), "127.0.0.1", trusted), {
    address: "::5",
    unnamed: false,
  });
  assert.deepEqual(clientOf(request("nonsense"), "127.0.0.1", trusted), {
    address: "127.0.0.1",
    unnamed: true,
  });
});
