// deploy/install.sh, run for real as root inside a bubblewrap sandbox (tests/support/sandbox.ts):
// what it installs, with which owner and mode, how it takes the install token (docs/protocol.md,
// Secrets: never from argv, never echoed), what a re-run keeps, and what --uninstall leaves. The
// env file it writes is read back with the agent's own parser (docs/configuration.md). Skipped
// without root or bwrap.
import assert from "node:assert/strict";
import fc from "fast-check";
import { envValues, parseEnvFile } from "../../lib/config/mod.ts";
import { newToken } from "../support/agent.ts";
import {
  createSandbox,
  fakeAgent,
  INSTALL_SH,
  type InstallRun,
  type Sandbox,
  sandboxUnavailable,
} from "../support/sandbox.ts";

const BACKEND = "https://backend.example:5009";
const CONF = "/etc/ravenxcope/sensor-agent.env";
const BIN = "/usr/local/bin/sensor-agent";
const UNIT = "/etc/systemd/system/sensor-agent.service";
const SYSTEMD_NOTICE = /^install\.sh: systemd is not running here/;

const skip = await sandboxUnavailable();
if (skip !== undefined) console.log(`skipped: install_test.ts (sandbox cases): ${skip}`);
const shellcheck = await hasCommand("shellcheck");
if (!shellcheck) {
  console.log("skipped: install.sh shellcheck: shellcheck is not installed");
}
const strace = await hasCommand("strace");
if (skip === undefined && !strace) {
  console.log("skipped: install.sh argv trace: strace is not installed");
}
const script = await hasCommand("script");
if (skip === undefined && !script) {
  console.log("skipped: install.sh prompt: script (util-linux) is not installed");
}

/** A sandbox test: skipped (with the reason printed above) where the sandbox cannot run. */
function sandboxTest(name: string, fn: (sandbox: Sandbox) => Promise<void>, ignore = false) {
  Deno.test({
    name,
    ignore: skip !== undefined || ignore,
    fn: async () => {
      await using sandbox = await createSandbox();
      await fn(sandbox);
    },
  });
}

async function hasCommand(name: string): Promise<boolean> {
  try {
    // The sandbox finds programs under /usr, whatever this process's PATH says.
    const output = await new Deno.Command("sh", {
      args: ["-c", `PATH="$PATH:/usr/sbin:/usr/bin:/sbin:/bin" command -v ${name}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return output.success;
  } catch {
    return false;
  }
}

/** Fails with the run's output when the installer did not exit `code`. */
function assertExit(run: InstallRun, code: number): void {
  assert.equal(run.code, code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o7777;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The env file as the agent reads it. */
async function confValues(sandbox: Sandbox): Promise<Map<string, string>> {
  const text = await Deno.readTextFile(sandbox.host(CONF));
  return envValues(parseEnvFile(text, CONF));
}

/** A first install with the token in the environment; returns the run and the token. */
async function firstInstall(
  sandbox: Sandbox,
  extra: string[] = [],
): Promise<{ run: InstallRun; token: string }> {
  const token = newToken("install");
  const binary = await sandbox.addFile("agent-1", fakeAgent("one"), 0o755);
  const run = await sandbox.install(
    ["--backend-url", BACKEND, "--sensor-id", "rack-7 sensor", "--binary", binary, ...extra],
    { env: { INSTALL_TOKEN: token } },
  );
  assertExit(run, 0);
  return { run, token };
}

/** What the agent does after enrolling (lib/config/envfile.ts withSensorToken), done by hand. */
async function enroll(sandbox: Sandbox): Promise<string> {
  const sensorToken = newToken("sensor");
  const path = sandbox.host(CONF);
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(
    path,
    text.replace(/^INSTALL_TOKEN=.*$/m, "# INSTALL_TOKEN consumed during enrollment") +
      `SENSOR_TOKEN=${sensorToken}\n`,
  );
  return sensorToken;
}

/** Nothing of the agent on the sandbox: no binary (nor temp copy), unit, config or user. */
async function assertNothingInstalled(sandbox: Sandbox): Promise<void> {
  assert.deepEqual(
    await Array.fromAsync(Deno.readDir(sandbox.host("/usr/local/bin")), (e) => e.name),
    [],
  );
  assert.equal(await exists(sandbox.host(UNIT)), false);
  assert.equal(await exists(sandbox.host("/etc/ravenxcope")), false);
  assert.equal(await sandbox.user("ravenxcope"), undefined);
}

Deno.test({
  name: "install.sh: shellcheck -x finds nothing at default severity",
  ignore: !shellcheck,
  fn: async () => {
    const output = await new Deno.Command("shellcheck", {
      args: ["-x", INSTALL_SH],
      env: { PATH: `${Deno.env.get("PATH") ?? ""}:/usr/sbin:/usr/bin:/sbin:/bin` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    assert.equal(text, "");
  },
});

Deno.test("install.sh: its env-file reader reads every line as lib/config/envfile.ts does", async () => {
  // The script's parse_env_line and the pattern it uses, run alone in bash on generated lines.
  const script = await Deno.readTextFile(INSTALL_SH);
  const pattern = script.match(/^readonly ASSIGNMENT_RE=.*$/m)?.[0];
  const parser = script.match(/^parse_env_line\(\) \{\n[\s\S]*?\n\}$/m)?.[0];
  assert.ok(pattern && parser, "install.sh defines ASSIGNMENT_RE and parse_env_line");
  const harness = `export LC_ALL=C\n${pattern}\n${parser}\n` +
    `while IFS= read -r -d '' line; do
      status=0; parse_env_line "$line" || status=$?
      case $status in
        0) printf 'set\\t%s\\t%s\\0' "$line_key" "$line_value" ;;
        1) printf 'comment\\0' ;;
        *) printf 'error\\0' ;;
      esac
    done`;
  const piece = fc.constantFrom(
    "K",
    "_k1",
    "export ",
    "export\t",
    "=",
    " ",
    "\t",
    "'",
    '"',
    "\\",
    "#",
    "a b",
    "é",
    "\r",
    "$x",
  );
  const lines = fc.sample(
    fc.tuple(fc.constantFrom("", "K=", "export K=", " K = "), fc.array(piece, { maxLength: 10 }))
      .map(([start, rest]) => start + rest.join("")),
    { numRuns: 3000 },
  );
  const child = new Deno.Command("bash", {
    args: ["-c", harness],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.map((l) => `${l}\0`).join("")));
  await writer.close();
  const output = await child.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const got = new TextDecoder().decode(output.stdout).split("\0");
  lines.forEach((line, i) => {
    let want = "error";
    try {
      const [parsed] = parseEnvFile(`${line}\n`, "generated.env");
      want = parsed.key === undefined ? "comment" : `set\t${parsed.key}\t${parsed.value}`;
    } catch {
      // outside the grammar
    }
    assert.equal(got[i], want, `line ${JSON.stringify(line)}`);
  });
});

sandboxTest(
  "install: a first install writes the binary 0755, the unit, the user and a 0600 env file the agent reads",
  async (sandbox) => {
    const { run, token } = await firstInstall(sandbox);
    const user = await sandbox.user("ravenxcope");
    assert.ok(user, "the user ravenxcope exists");
    assert.equal(user.shell, "/usr/sbin/nologin");
    assert.equal(await sandbox.group("ravenxcope"), user.gid);
    assert.ok(user.uid < 1000, `a system user, uid ${user.uid}`);

    const dir = await Deno.stat(sandbox.host("/etc/ravenxcope"));
    assert.equal(dir.mode! & 0o7777, 0o700);
    assert.deepEqual([dir.uid, dir.gid], [user.uid, user.gid]);
    const conf = await Deno.stat(sandbox.host(CONF));
    assert.equal(conf.mode! & 0o7777, 0o600);
    assert.deepEqual([conf.uid, conf.gid], [user.uid, user.gid]);
    const values = await confValues(sandbox);
    assert.equal(values.get("INSTALL_TOKEN"), token);
    assert.equal(values.get("BACKEND_URL"), BACKEND);
    assert.equal(values.get("SENSOR_ID"), "rack-7 sensor");
    assert.equal(values.has("SENSOR_TOKEN"), false);

    const bin = await Deno.stat(sandbox.host(BIN));
    assert.equal(bin.mode! & 0o7777, 0o755);
    assert.deepEqual([bin.uid, bin.gid], [0, 0]);
    assert.equal(await Deno.readTextFile(sandbox.host(BIN)), fakeAgent("one"));
    assert.equal(await mode(sandbox.host(UNIT)), 0o644);
    assert.equal(
      await Deno.readTextFile(sandbox.host(UNIT)),
      await Deno.readTextFile(`${sandbox.path}/installer/sensor-agent.service`),
    );
    // Only the binary, no temp file, is left in /usr/local/bin.
    assert.deepEqual(
      await Array.fromAsync(Deno.readDir(sandbox.host("/usr/local/bin")), (e) => e.name),
      ["sensor-agent"],
    );
    assert.ok(!(run.stdout + run.stderr).includes(token));
    assert.match(
      run.stdout,
      /install token: from INSTALL_TOKEN in the environment, fingerprint [0-9a-f]{12}/,
    );
  },
);

sandboxTest(
  "install: without systemd it says so in one line and skips systemctl",
  async (sandbox) => {
    const { run } = await firstInstall(sandbox);
    const notices = (run.stdout + run.stderr).split("\n").filter((l) => SYSTEMD_NOTICE.test(l));
    assert.equal(notices.length, 1, run.stdout);
    assert.deepEqual(await sandbox.systemctlCalls(), []);
  },
);

sandboxTest(
  "install: with systemd it reloads, enables and starts; an upgrade restarts; a no-op re-run does not",
  async (sandbox) => {
    sandbox.systemd = true;
    await firstInstall(sandbox);
    assert.deepEqual(await sandbox.systemctlCalls(), [
      "daemon-reload",
      "is-active --quiet sensor-agent",
      "enable --now --quiet sensor-agent",
    ]);
    await Deno.remove(sandbox.host("/state/systemctl.log"));
    const binary = await sandbox.addFile("agent-2", fakeAgent("two"), 0o755);
    assertExit(await sandbox.install(["--binary", binary]), 0);
    assert.deepEqual(await sandbox.systemctlCalls(), [
      "daemon-reload",
      "is-active --quiet sensor-agent",
      "enable --quiet sensor-agent",
      "restart sensor-agent",
    ]);
    await Deno.remove(sandbox.host("/state/systemctl.log"));
    const again = await sandbox.install(["--binary", binary]);
    assertExit(again, 0);
    assert.ok(!(await sandbox.systemctlCalls()).includes("restart sensor-agent"), again.stdout);
    assert.match(again.stdout, /nothing changed/);
  },
);

sandboxTest(
  "install: --help prints the usage and exits 0 without touching anything",
  async (sandbox) => {
    const run = await sandbox.install(["--help"]);
    assertExit(run, 0);
    assert.match(run.stdout, /^Usage: sudo bash install\.sh --backend-url URL --binary PATH\|URL/);
    assert.match(run.stdout, /--install-token-file PATH/);
    await assertNothingInstalled(sandbox);
  },
);

sandboxTest(
  "install: --unit PATH installs that unit; a missing one is refused first, an absent default kept",
  async (sandbox) => {
    const token = newToken("install");
    const binary = await sandbox.addFile("agent", fakeAgent("one"), 0o755);
    const missing = await sandbox.install(
      ["--backend-url", BACKEND, "--binary", binary, "--unit", "/files/none.service"],
      { env: { INSTALL_TOKEN: token } },
    );
    assertExit(missing, 66);
    assert.match(missing.stderr, /no unit file at \/files\/none\.service/);
    await assertNothingInstalled(sandbox);
    const unit = await sandbox.addFile("other.service", "[Service]\nExecStart=/bin/true\n");
    const run = await sandbox.install(
      ["--backend-url", BACKEND, "--binary", binary, "--unit", unit],
      { env: { INSTALL_TOKEN: token } },
    );
    assertExit(run, 0);
    assert.equal(await Deno.readTextFile(sandbox.host(UNIT)), "[Service]\nExecStart=/bin/true\n");
    // A re-run with no unit beside the script keeps the installed one.
    await Deno.remove(sandbox.host("/installer/sensor-agent.service"));
    const again = await sandbox.install(["--sensor-id", "moved"]);
    assertExit(again, 0);
    assert.match(again.stdout, /kept the installed \/etc\/systemd\/system\/sensor-agent\.service/);
    assert.equal(await Deno.readTextFile(sandbox.host(UNIT)), "[Service]\nExecStart=/bin/true\n");
    assert.equal((await confValues(sandbox)).get("SENSOR_ID"), "moved");
  },
);

sandboxTest(
  "install: a re-run before enrollment keeps the install token in the file, or replaces it",
  async (sandbox) => {
    const { token } = await firstInstall(sandbox);
    const kept = await sandbox.install(["--backend-url", BACKEND]);
    assertExit(kept, 0);
    assert.match(kept.stdout, /keeping the install token already in/);
    assert.equal((await confValues(sandbox)).get("INSTALL_TOKEN"), token);
    const newer = newToken("install");
    const replaced = await sandbox.install([], { env: { INSTALL_TOKEN: newer } });
    assertExit(replaced, 0);
    const text = await Deno.readTextFile(sandbox.host(CONF));
    assert.equal(envValues(parseEnvFile(text, CONF)).get("INSTALL_TOKEN"), newer);
    assert.ok(!text.includes(token), "the old token is gone from the file");
  },
);

sandboxTest(
  "install: links planted in /etc/ravenxcope never lead root's chown elsewhere",
  async (sandbox) => {
    await firstInstall(sandbox);
    const victim = sandbox.host("/etc/victim");
    await Deno.writeTextFile(victim, "root's file\n", { mode: 0o644 });
    await Deno.chmod(victim, 0o644);
    // The agent's user owns the directory, so it could swap the lock file for a link.
    await Deno.remove(sandbox.host(`${CONF}.lock`));
    await Deno.symlink("/etc/victim", sandbox.host(`${CONF}.lock`));
    assertExit(await sandbox.install(["--backend-url", BACKEND]), 0);
    const lock = await Deno.lstat(sandbox.host(`${CONF}.lock`));
    assert.ok(lock.isFile, "the lock is a plain file again");
    assert.equal(lock.uid, (await sandbox.user("ravenxcope"))?.uid);
    // ...or the config itself.
    await Deno.remove(sandbox.host(CONF));
    await Deno.symlink("/etc/victim", sandbox.host(CONF));
    const run = await sandbox.install(["--backend-url", BACKEND]);
    assertExit(run, 78);
    assert.match(run.stderr, /is a symbolic link/);
    const after = await Deno.stat(victim);
    assert.deepEqual([after.uid, after.gid, after.mode! & 0o7777], [0, 0, 0o644]);
    assert.equal(await Deno.readTextFile(victim), "root's file\n");
    // The refused run left the directory with the agent's user.
    assert.equal(
      (await Deno.stat(sandbox.host("/etc/ravenxcope"))).uid,
      (await sandbox.user("ravenxcope"))?.uid,
    );
  },
);

sandboxTest("install: the install token from --install-token-file", async (sandbox) => {
  const token = newToken("install");
  const tokenFile = await sandbox.addFile("token", `${token}\n`, 0o600);
  const binary = await sandbox.addFile("agent", fakeAgent("one"), 0o755);
  const run = await sandbox.install([
    "--backend-url",
    BACKEND,
    "--binary",
    binary,
    "--install-token-file",
    tokenFile,
  ]);
  assertExit(run, 0);
  assert.equal((await confValues(sandbox)).get("INSTALL_TOKEN"), token);
  assert.ok(!(run.stdout + run.stderr).includes(token));
});

for (const form of ["--install-token VALUE", "--install-token=VALUE", "--token VALUE"]) {
  sandboxTest(
    `install: ${form} is refused, the value never echoed, nothing installed`,
    async (sandbox) => {
      const token = newToken("install");
      const binary = await sandbox.addFile("agent", fakeAgent("one"), 0o755);
      const tokenArgs = form.includes("=")
        ? [form.replace("VALUE", token)]
        : [form.split(" ")[0], token];
      const run = await sandbox.install([
        "--backend-url",
        BACKEND,
        "--binary",
        binary,
        ...tokenArgs,
      ]);
      assertExit(run, 64);
      assert.ok(!(run.stdout + run.stderr).includes(token));
      assert.match(
        run.stderr,
        /is refused: a token on the command line is readable by every local user/,
      );
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
      await assertNothingInstalled(sandbox);
    },
  );
}

sandboxTest(
  "install: an unknown option or stray argument is not repeated back",
  async (sandbox) => {
    const token = newToken("install");
    for (const args of [[token], [`--${token}`], ["--instal-token", token]]) {
      const run = await sandbox.install(["--backend-url", BACKEND, ...args]);
      assertExit(run, 64);
      assert.ok(!(run.stdout + run.stderr).includes(token), run.stderr);
    }
    await assertNothingInstalled(sandbox);
  },
);

sandboxTest("install: a wrong --sha256 installs nothing", async (sandbox) => {
  const token = newToken("install");
  const binary = await sandbox.addFile("agent", fakeAgent("one"), 0o755);
  const wrong = await sha256("something else");
  const run = await sandbox.install(
    ["--backend-url", BACKEND, "--binary", binary, "--sha256", wrong],
    { env: { INSTALL_TOKEN: token } },
  );
  assertExit(run, 65);
  assert.match(run.stderr, /SHA-256 is [0-9a-f]{64}, not the expected/);
  await assertNothingInstalled(sandbox);
});

sandboxTest("install: the right --sha256 (any case) installs", async (sandbox) => {
  const token = newToken("install");
  const binary = await sandbox.addFile("agent", fakeAgent("one"), 0o755);
  const sum = (await sha256(fakeAgent("one"))).toUpperCase();
  const run = await sandbox.install(
    ["--backend-url", BACKEND, "--binary", binary, "--sha256", sum],
    { env: { INSTALL_TOKEN: token } },
  );
  assertExit(run, 0);
  assert.equal(await Deno.readTextFile(sandbox.host(BIN)), fakeAgent("one"));
});

sandboxTest(
  "install: a binary that is not the agent is refused before anything changes",
  async (sandbox) => {
    const token = newToken("install");
    const binary = await sandbox.addFile("not-agent", "#!/bin/sh\necho hello\n", 0o755);
    const run = await sandbox.install(["--backend-url", BACKEND, "--binary", binary], {
      env: { INSTALL_TOKEN: token },
    });
    assertExit(run, 65);
    assert.match(run.stderr, /is not the sensor agent/);
    await assertNothingInstalled(sandbox);
  },
);

sandboxTest("install: a URL binary without --sha256 is refused", async (sandbox) => {
  const token = newToken("install");
  const run = await sandbox.install(
    ["--backend-url", BACKEND, "--binary", "http://127.0.0.1:9/sensor-agent"],
    { env: { INSTALL_TOKEN: token } },
  );
  assertExit(run, 64);
  assert.match(run.stderr, /no --sha256 was given/);
  await assertNothingInstalled(sandbox);
});

sandboxTest("install: a URL binary is downloaded and its checksum checked", async (sandbox) => {
  const body = fakeAgent("downloaded");
  let requests = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      requests++;
      return new URL(request.url).pathname === "/sensor-agent"
        ? new Response(body)
        : new Response("not found", { status: 404 });
    },
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/sensor-agent`;
    const token = newToken("install");
    const bad = await sandbox.install(
      ["--backend-url", BACKEND, "--binary", url, "--sha256", await sha256("other")],
      { env: { INSTALL_TOKEN: token }, loopback: true },
    );
    assertExit(bad, 65);
    await assertNothingInstalled(sandbox);
    const missing = await sandbox.install(
      ["--backend-url", BACKEND, "--binary", `${url}-missing`, "--sha256", await sha256(body)],
      { env: { INSTALL_TOKEN: token }, loopback: true },
    );
    assertExit(missing, 69);
    await assertNothingInstalled(sandbox);
    const good = await sandbox.install(
      ["--backend-url", BACKEND, "--binary", url, "--sha256", await sha256(body)],
      { env: { INSTALL_TOKEN: token }, loopback: true },
    );
    assertExit(good, 0);
    assert.equal(await Deno.readTextFile(sandbox.host(BIN)), body);
    assert.ok(requests >= 3);
  } finally {
    await server.shutdown();
  }
});

sandboxTest(
  "install: a re-run keeps SENSOR_TOKEN, needs no install token, and replaces the binary",
  async (sandbox) => {
    await firstInstall(sandbox);
    const sensorToken = await enroll(sandbox);
    const before = await Deno.readTextFile(sandbox.host(CONF));
    const inodeBefore = (await Deno.stat(sandbox.host(BIN))).ino;
    const binary = await sandbox.addFile("agent-2", fakeAgent("two"), 0o755);
    // The one-liner again: same flags, no token anywhere, no terminal.
    const run = await sandbox.install(["--backend-url", BACKEND, "--binary", binary]);
    assertExit(run, 0);
    assert.equal(
      await Deno.readTextFile(sandbox.host(CONF)),
      before,
      "the file is byte for byte the same",
    );
    assert.equal((await confValues(sandbox)).get("SENSOR_TOKEN"), sensorToken);
    assert.match(run.stdout, /left \/etc\/ravenxcope\/sensor-agent\.env unchanged/);
    assert.equal(await Deno.readTextFile(sandbox.host(BIN)), fakeAgent("two"));
    assert.notEqual((await Deno.stat(sandbox.host(BIN))).ino, inodeBefore, "replaced by rename");
    assert.equal(await mode(sandbox.host(BIN)), 0o755);
    assert.ok(!(run.stdout + run.stderr).includes(sensorToken));
  },
);

sandboxTest(
  "install: a re-run with an install token does not add it to an enrolled sensor",
  async (sandbox) => {
    await firstInstall(sandbox);
    const sensorToken = await enroll(sandbox);
    const token = newToken("install");
    const run = await sandbox.install(["--backend-url", BACKEND], {
      env: { INSTALL_TOKEN: token },
    });
    assertExit(run, 0);
    const values = await confValues(sandbox);
    assert.equal(values.get("SENSOR_TOKEN"), sensorToken);
    assert.equal(values.has("INSTALL_TOKEN"), false);
    assert.match(run.stdout, /already enrolled/);
  },
);

sandboxTest(
  "install: a re-run changes only the lines its flags name and keeps every other byte",
  async (sandbox) => {
    await firstInstall(sandbox);
    const sensorToken = newToken("sensor");
    const original = "# operator's notes\r\n" +
      `export SENSOR_TOKEN="${sensorToken}"\r\n` +
      "BACKEND_URL=https://old.example\r\n" +
      "OTHER_TOOL=kept as is   # a # here is part of the value\r\n" +
      "BACKEND_URL='https://older.example'\r\n" +
      "  export SENSOR_ID = 'old label'\r\n";
    await Deno.writeTextFile(sandbox.host(CONF), original);
    const run = await sandbox.install([
      "--backend-url",
      "https://new.example/ravenx",
      "--sensor-port",
      "2222",
    ]);
    assertExit(run, 0);
    assert.equal(
      await Deno.readTextFile(sandbox.host(CONF)),
      "# operator's notes\r\n" +
        `export SENSOR_TOKEN="${sensorToken}"\r\n` +
        "BACKEND_URL='https://new.example/ravenx'\r\n" +
        "OTHER_TOOL=kept as is   # a # here is part of the value\r\n" +
        "  export SENSOR_ID = 'old label'\r\n" +
        "SENSOR_PORT='2222'\r\n",
    );
    const values = await confValues(sandbox);
    assert.equal(values.get("BACKEND_URL"), "https://new.example/ravenx");
    assert.equal(values.get("SENSOR_PORT"), "2222");
    assert.equal(values.get("SENSOR_TOKEN"), sensorToken);
    assert.equal(await mode(sandbox.host(CONF)), 0o600);
  },
);

sandboxTest(
  "install: a config line outside the grammar is refused, the file untouched",
  async (sandbox) => {
    await firstInstall(sandbox);
    const broken = "BACKEND_URL=https://a.example\nthis is not an assignment\n";
    await Deno.writeTextFile(sandbox.host(CONF), broken);
    const run = await sandbox.install(["--backend-url", "https://b.example"]);
    assertExit(run, 78);
    assert.match(run.stderr, /sensor-agent\.env line 2 is not KEY=value/);
    assert.equal(await Deno.readTextFile(sandbox.host(CONF)), broken);
  },
);

sandboxTest("install: values with a single quote or a newline are refused", async (sandbox) => {
  const token = newToken("install");
  const binary = await sandbox.addFile("agent", fakeAgent("one"), 0o755);
  for (const extra of [["--sensor-id", "it's"], ["--sensor-id", "a\nINSTALL_TOKEN=x"]]) {
    const run = await sandbox.install(["--backend-url", BACKEND, "--binary", binary, ...extra], {
      env: { INSTALL_TOKEN: token },
    });
    assertExit(run, 64);
  }
  const quoted = await sandbox.install(["--backend-url", BACKEND, "--binary", binary], {
    env: { INSTALL_TOKEN: `${token}'` },
  });
  assertExit(quoted, 64);
  assert.ok(!(quoted.stdout + quoted.stderr).includes(token));
  await assertNothingInstalled(sandbox);
});

sandboxTest(
  "install: no install token and no terminal is refused before anything changes",
  async (sandbox) => {
    const binary = await sandbox.addFile("agent", fakeAgent("one"), 0o755);
    const run = await sandbox.install(["--backend-url", BACKEND, "--binary", binary]);
    assertExit(run, 64);
    assert.match(run.stderr, /no install token: set INSTALL_TOKEN in the environment/);
    await assertNothingInstalled(sandbox);
  },
);

sandboxTest("install: a first install needs --backend-url and --binary", async (sandbox) => {
  const token = newToken("install");
  const binary = await sandbox.addFile("agent", fakeAgent("one"), 0o755);
  const noUrl = await sandbox.install(["--binary", binary], { env: { INSTALL_TOKEN: token } });
  assertExit(noUrl, 64);
  assert.match(noUrl.stderr, /pass --backend-url/);
  const noBinary = await sandbox.install(["--backend-url", BACKEND], {
    env: { INSTALL_TOKEN: token },
  });
  assertExit(noBinary, 64);
  assert.match(noBinary.stderr, /pass --binary/);
  await assertNothingInstalled(sandbox);
});

sandboxTest(
  "install: --uninstall removes the unit and the binary and keeps the env file and the user",
  async (sandbox) => {
    await firstInstall(sandbox);
    const sensorToken = await enroll(sandbox);
    const run = await sandbox.install(["--uninstall"]);
    assertExit(run, 0);
    assert.equal(await exists(sandbox.host(BIN)), false);
    assert.equal(await exists(sandbox.host(UNIT)), false);
    assert.equal((await confValues(sandbox)).get("SENSOR_TOKEN"), sensorToken);
    const user = await sandbox.user("ravenxcope");
    assert.ok(user);
    assert.equal((await Deno.stat(sandbox.host(CONF))).uid, user.uid);
    assert.match(run.stdout, /kept \/etc\/ravenxcope/);
    assert.ok(!(run.stdout + run.stderr).includes(sensorToken));
  },
);

sandboxTest(
  "install: --uninstall --remove-user removes the user and gives the kept config to root",
  async (sandbox) => {
    await firstInstall(sandbox);
    const sensorToken = await enroll(sandbox);
    assertExit(await sandbox.install(["--uninstall", "--remove-user"]), 0);
    assert.equal(await sandbox.user("ravenxcope"), undefined);
    assert.equal(await sandbox.group("ravenxcope"), undefined);
    const conf = await Deno.stat(sandbox.host(CONF));
    assert.deepEqual([conf.uid, conf.gid, conf.mode! & 0o7777], [0, 0, 0o600]);
    assert.equal((await confValues(sandbox)).get("SENSOR_TOKEN"), sensorToken);
    // Installing again takes the kept config back, still enrolled, with no token asked.
    const binary = await sandbox.addFile("agent-3", fakeAgent("three"), 0o755);
    assertExit(await sandbox.install(["--binary", binary]), 0);
    const user = await sandbox.user("ravenxcope");
    assert.ok(user);
    assert.equal((await Deno.stat(sandbox.host(CONF))).uid, user.uid);
    assert.equal((await confValues(sandbox)).get("SENSOR_TOKEN"), sensorToken);
  },
);

sandboxTest(
  "install: --uninstall with systemd disables and stops the service first",
  async (sandbox) => {
    sandbox.systemd = true;
    await firstInstall(sandbox);
    await Deno.remove(sandbox.host("/state/systemctl.log"));
    assertExit(await sandbox.install(["--uninstall"]), 0);
    const calls = await sandbox.systemctlCalls();
    assert.equal(calls[0], "disable --now --quiet sensor-agent");
    assert.ok(calls.includes("daemon-reload"));
    assert.equal(await exists(sandbox.host("/state/active")), false);
  },
);

sandboxTest(
  "install: no child process gets the install token in its argv or environment",
  async (sandbox) => {
    const token = newToken("install");
    const binary = await sandbox.addFile("agent", fakeAgent("one"), 0o755);
    const tokenFile = await sandbox.addFile("token", token, 0o600);
    const ways: Array<{ args: string[]; env: Record<string, string> }> = [
      { args: [], env: { INSTALL_TOKEN: token } },
      { args: ["--install-token-file", tokenFile], env: {} },
    ];
    for (const { args, env } of ways) {
      await Deno.remove(sandbox.host("/etc/ravenxcope"), { recursive: true }).catch(() => {});
      const trace = "/state/execve.trace";
      const command = sandbox.command([
        "strace",
        "-f",
        "-qq",
        "-v",
        "-s",
        "65536",
        "-e",
        "trace=execve",
        "-o",
        trace,
        "bash",
        "/installer/install.sh",
        "--backend-url",
        BACKEND,
        "--binary",
        binary,
        ...args,
      ], { env });
      const output = await command.output();
      const printed = new TextDecoder().decode(output.stdout) +
        new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 0, printed);
      assert.ok(!printed.includes(token));
      const execs = (await Deno.readTextFile(sandbox.host(trace))).split("\n")
        .filter((l) => l.includes("execve("));
      assert.ok(execs.some((l) => l.includes('"chown"')), "the trace saw the children");
      // The first exec is bash itself, started with the caller's environment; no later one may
      // carry the token.
      const leaks = execs.slice(1).filter((l) => l.includes(token));
      assert.deepEqual(leaks.map((l) => l.slice(0, l.indexOf("["))), []);
      assert.equal((await confValues(sandbox)).get("INSTALL_TOKEN"), token);
    }
  },
  !strace,
);

sandboxTest(
  "install: the prompt reads the token from the terminal without echoing it",
  async (sandbox) => {
    const token = newToken("install");
    const binary = await sandbox.addFile("agent", fakeAgent("one"), 0o755);
    const child = sandbox.command(
      [
        "script",
        "-qec",
        `bash /installer/install.sh --backend-url ${BACKEND} --binary ${binary}`,
        "/dev/null",
      ],
      { stdin: "piped", env: { TERM: "dumb" } },
    ).spawn();
    let screen = "";
    const reading = (async () => {
      for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) screen += text;
    })();
    const errors = new Response(child.stderr).text();
    const writer = child.stdin.getWriter();
    let code = -1;
    try {
      const deadline = Date.now() + 10_000;
      while (!screen.includes("(input hidden)") && Date.now() < deadline) {
        await new Promise((done) => setTimeout(done, 20));
      }
      assert.ok(screen.includes("(input hidden)"), `no prompt: ${screen}`);
      // Only once the prompt shows: bash has turned echo off by then (read -s before -p).
      await writer.write(new TextEncoder().encode(`${token}\n`));
      code = (await child.status).code;
    } finally {
      await writer.close().catch(() => {});
      await reading;
      await errors;
    }
    assert.equal(code, 0, screen);
    assert.ok(!screen.includes(token), "the token was echoed");
    assert.match(screen, /install token: from the prompt, fingerprint [0-9a-f]{12}/);
    assert.equal((await confValues(sandbox)).get("INSTALL_TOKEN"), token);
  },
  !script,
);
