// The install one-liner (reference-backend/install/, the admin API's POST /api/install-tokens;
// docs/install.md, "The one-liner"): minting a token and the command that goes with it, the two
// files it downloads served byte for byte, the command parsed by bash into exactly install.sh's
// words, run as printed in the installer's sandbox, and refused before anything runs when a
// downloaded file was swapped on the way (issue 14). Real backends on loopback, real bash, curl
// and sha256sum.
import assert from "node:assert/strict";
import { join } from "node:path";
import { envValues, parseEnvFile } from "../../../lib/config/mod.ts";
import { setLogOptions } from "../../../lib/log.ts";
import { createHandler } from "../../../reference-backend/api/mod.ts";
import {
  type AgentBinary,
  installCommand,
  loadDownloads,
  PROJECT_ROOT,
} from "../../../reference-backend/install/mod.ts";
import { launchBackend } from "../../../reference-backend/launch.ts";
import type { Store } from "../../../reference-backend/store/mod.ts";
import { assertNoTokens, PROJECT } from "../../support/agent.ts";
import { type RefBackend, startRefBackend } from "../../support/refbackend.ts";
import {
  createSandbox,
  fakeAgent,
  type Sandbox,
  sandboxUnavailable,
} from "../../support/sandbox.ts";
import { tempDir } from "../../support/tempdir.ts";

const INSTALL_SH = join(PROJECT, "deploy", "install.sh");
const UNIT_FILE = join(PROJECT, "deploy", "sensor-agent.service");

const noSandbox = await sandboxUnavailable();
if (noSandbox !== undefined) {
  console.log(`skipped: install_test.ts (the install command run for real): ${noSandbox}`);
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
 * The install command, spelled out here independently of reference-backend/install/command.ts;
 * `dev` for a backend with DEV_INSECURE_HTTP=1 (the default of tests/support/refbackend.ts).
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
  sensorId?: string,
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
  assert.equal(values.get("SENSOR_ID"), sensorId, "the label minted with the token");
}

Deno.test({
  name: "install command: run as printed, it installs ./sensor-agent with deploy/'s unit",
  ignore: noSandbox !== undefined,
  fn: async () => {
    await using backend = await startRefBackend();
    await using sandbox = await createSandbox();
    const minted = await backend.call("POST", "/api/install-tokens");
    assert.equal(minted.body.data.agentBinaryUrl, null);
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
      const label = 'rack 4, row "B" $(id) `id`';
      const minted = await backend.call("POST", "/api/install-tokens", { label });
      assert.match(minted.body.data.agentBinaryUrl, /^http:\/\/127\.0\.0\.1:\d+\/sensor-agent$/);
      const text = await runPrinted(
        sandbox,
        minted.body.data.installCommand,
        minted.body.data.installToken,
      );
      assert.match(text, /downloading http:\/\/127\.0\.0\.1:\d+\/sensor-agent/);
      await assertInstalled(sandbox, backend, minted.body.data.installToken, binary, label);
    } finally {
      await server.shutdown();
    }
  },
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

Deno.test("install command: a label becomes --sensor-id, one word to bash whatever it holds; a label the env file cannot hold is 400", async () => {
  const label = 'rack 4, row "B" $(reboot) `id` \\ *';
  const command = installCommand("https://rx.example", DIGESTS, undefined, false, label);
  const sudo = (await argvOf(command)).find((argv) => argv[0] === "sudo")!;
  assert.deepEqual(sudo.slice(3), [
    "--backend-url",
    "https://rx.example",
    "--sensor-id",
    label,
    "--binary",
    "./sensor-agent",
  ]);
  await using backend = await startRefBackend();
  for (const bad of ["it's", " padded", "line\nbreak", "x".repeat(201), ""]) {
    const answer = await backend.call("POST", "/api/install-tokens", { label: bad });
    assert.equal(answer.status, 400, JSON.stringify(bad));
    assert.match(answer.body.error, /^label: /);
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
      installCommand("https://rx.example", DIGESTS, binary, false, "rack 4"),
    ]
  ) {
    const sudo = (await argvOf(command)).find((argv) => argv[0] === "sudo")!;
    assert.deepEqual(sudo.slice(0, 3), ["sudo", "bash", "install.sh"]);
    for (const word of sudo) if (word.startsWith("--")) options.add(word);
  }
  assert.deepEqual([...options].sort(), ["--backend-url", "--binary", "--sensor-id", "--sha256"]);
  for (const option of options) assert.match(usage, new RegExp(`^  ${option} `, "m"), option);
});
