// The reference backend's install command cannot be swapped, sensor text cannot forge what an
// operator reads, and its own HTTP/1.1 server reads each request one way only (issue 14). Real
// backends on loopback, real bash, curl and sha256sum; the pure modules in process at the end.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Coalescer, TooManyWaiting } from "../reference-backend/coalesce.ts";
import { escapeForDisplay } from "../reference-backend/display.ts";
import { PROJECT_ROOT } from "../reference-backend/downloads.ts";
import { headEnd, MalformedRequest, parseHead } from "../reference-backend/http1.ts";
import { installCommand } from "../reference-backend/install.ts";
import { launchBackend } from "../reference-backend/launch.ts";
import { FailureLimiter } from "../reference-backend/ratelimit.ts";
import { type RefBackend, seedPayload, startRefBackend } from "./support/refbackend.ts";
import { tempDir } from "./support/tempdir.ts";

const encoder = new TextEncoder();

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

Deno.test("http/1.1: pipelined requests are answered in order; smuggling shapes and huge heads are refused", async () => {
  await using backend = await startRefBackend();
  const exchange = async (raw: string) => {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(backend.url).port),
    });
    try {
      await conn.write(encoder.encode(raw));
      let text = "";
      const buffer = new Uint8Array(65536);
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) break;
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
      return text;
    } finally {
      conn.close();
    }
  };
  const two = await exchange(
    "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\nHEAD /install.sh HTTP/1.1\r\nHost: x\r\n" +
      "Connection: close\r\n\r\n",
  );
  assert.match(two, /^HTTP\/1\.1 404 Not Found\r\n[\s\S]*HTTP\/1\.1 200 OK\r\n/);
  for (
    const [raw, status] of [
      [
        "POST /api/sensors/enroll HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
        400,
      ],
      ["POST /api/sensors/enroll HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400],
      ["POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501],
      [`GET / HTTP/1.1\r\nX: ${"a".repeat(20_000)}\r\n\r\n`, 431],
    ] as const
  ) {
    const reply = await exchange(raw);
    assert.match(reply, new RegExp(`^HTTP/1\\.1 ${status} `), raw.slice(0, 60));
    assert.match(reply, /\r\nconnection: close\r\n/, "and the connection is closed");
  }
  await assertStillServes(backend);
});

async function assertStillServes(backend: RefBackend) {
  assert.equal((await backend.enroll(seedPayload(await backend.mint()))).status, 200);
}

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

Deno.test("http/1.1: a head is found across reads and parsed strictly", () => {
  const head = encoder.encode("POST /a?b=1 HTTP/1.1\r\nContent-Length: 2\r\nX-Y:  z \r\n\r\nhi");
  assert.equal(headEnd(head.subarray(0, 20)), -1);
  const end = headEnd(head, 20);
  assert.equal(end, head.length - 2);
  const parsed = parseHead(head.subarray(0, end));
  assert.equal(parsed.method, "POST");
  assert.equal(parsed.target, "/a?b=1");
  assert.deepEqual(parsed.body, { kind: "length", length: 2 });
  assert.equal(parsed.headers.get("x-y"), "z");
  assert.equal(parsed.keepAlive, true);
  const old = parseHead(encoder.encode("GET / HTTP/1.0\r\n\r\n"));
  assert.equal(old.keepAlive, false);
  assert.throws(
    () => parseHead(encoder.encode("GET http://x/ HTTP/1.1\r\n\r\n")),
    MalformedRequest,
  );
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

Deno.test("http/1.1: a header value is trimmed of spaces and tabs only; control bytes and a target with them are refused", () => {
  // JavaScript's trim() also drops \v, \f and \xA0: `Transfer-Encoding: \vchunked` would be chunked
  // here while a proxy in front, reading the value as it is, frames the body otherwise (a desync).
  for (
    const raw of [
      "POST / HTTP/1.1\r\nTransfer-Encoding: \x0bchunked\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\x0c\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: \xa05\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 5\x0b\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n",
      "GET /a\nX:y HTTP/1.1\r\n\r\n",
      "GET /a\tb HTTP/1.1\r\n\r\n",
      "GET /a\x00b HTTP/1.1\r\n\r\n",
      "GET /\xe9 HTTP/1.1\r\n\r\n",
    ]
  ) {
    const bytes = Uint8Array.from(raw, (char) => char.charCodeAt(0));
    assert.throws(() => parseHead(bytes), MalformedRequest, JSON.stringify(raw));
  }
  const fine = parseHead(encoder.encode("GET /a HTTP/1.1\r\nX: \t a\tb \t\r\n\r\n"));
  assert.equal(fine.headers.get("x"), "a\tb");
});
