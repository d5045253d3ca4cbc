// The command line and configuration errors as a user meets them: the real main.ts, one line and
// the contract's exit code (64 for the command line, 78 for configuration), nothing changed on
// disk.
import assert from "node:assert/strict";
import { newToken, runAgent } from "../support/agent.ts";
import { rootReads } from "../support/hosttree.ts";
import { tempDir } from "../support/tempdir.ts";

Deno.test("cli: --help prints the usage and exits 0", async () => {
  const run = await runAgent(["--help"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^Usage: sensor-agent \[run\|enroll\|inventory\|status\]/);
});

Deno.test("cli: --version prints the agent version", async () => {
  const run = await runAgent(["--version"]);
  assert.equal(run.code, 0);
  assert.equal(run.stdout, "sensor-agent 2.0.0\n");
});

for (
  const [what, args] of [
    ["an unknown command", ["frobnicate"]],
    ["an unknown flag", ["run", "--verbose"]],
    ["a second positional argument", ["enroll", "now"]],
    ["--force with run", ["run", "--force"]],
    ["--config without a value", ["run", "--config"]],
  ] as const
) {
  Deno.test(`cli: ${what} exits 64 with the usage`, async () => {
    const run = await runAgent([...args]);
    assert.equal(run.code, 64, run.stderr);
    assert.match(run.stderr, /Usage: sensor-agent/);
    assert.match(run.stderr, /ERROR .*See sensor-agent --help/);
  });
}

/** Runs the agent on a config file with `text`, the env given, and expects a 78 naming `where`. */
async function expectConfigError(
  text: string | undefined,
  env: Record<string, string>,
  message: RegExp,
  setup?: (config: string, dir: string) => Promise<void>,
) {
  await using dir = await tempDir();
  const config = dir.join("sensor-agent.env");
  if (text !== undefined) await Deno.writeTextFile(config, text);
  await setup?.(config, dir.path);
  const snapshot = async () => {
    const info = await Deno.lstat(config).catch(() => undefined);
    return info?.isFile ? await Deno.readFile(config) : info?.isFile; // never open a FIFO
  };
  const before = await snapshot();
  const run = await runAgent(["run", "--config", config], {
    read: [dir.path],
    write: [dir.path],
    env,
  });
  assert.equal(run.code, 78, run.stderr);
  assert.match(run.stderr, message);
  assert.equal(run.stderr.trim().split("\n").length, 1, `one line: ${run.stderr}`);
  assert.deepEqual(await snapshot(), before, "nothing changed on disk");
}

const url = "http://127.0.0.1:9";

Deno.test("config: BACKEND_URL that is not http(s) is a 78 naming the file and line", () =>
  expectConfigError(
    `SENSOR_ID=a\nBACKEND_URL=ftp://backend.local\n`,
    {},
    /BACKEND_URL from \S+sensor-agent\.env line 2 uses ftp: instead of http: or https:/,
  ));

Deno.test("config: BACKEND_URL with credentials from the environment is a 78", () =>
  expectConfigError(
    "",
    { BACKEND_URL: "https://user:pw@backend.local" },
    /BACKEND_URL from the environment carries credentials/,
  ));

Deno.test("config: BACKEND_URL with spaces is a 78", () =>
  expectConfigError(
    `BACKEND_URL="https://backend local"\n`,
    {},
    /BACKEND_URL .* contains white space/,
  ));

Deno.test("config: a file: BACKEND_URL is a 78", () =>
  expectConfigError(
    `BACKEND_URL=file:///etc/passwd\n`,
    {},
    /uses file: instead of http: or https:/,
  ));

Deno.test("config: a missing BACKEND_URL is a 78 when enrollment needs it", () =>
  expectConfigError(`INSTALL_TOKEN=${newToken("install")}\n`, {}, /BACKEND_URL is not set/));

Deno.test("config: SENSOR_PORT out of range is a 78", () =>
  expectConfigError(
    `BACKEND_URL=${url}\nSENSOR_PORT=70000\n`,
    {},
    /SENSOR_PORT from \S+ line 2 is "70000"/,
  ));

Deno.test("config: SENSOR_IP that is not an address is a 78", () =>
  expectConfigError(
    `BACKEND_URL=${url}\n`,
    { SENSOR_IP: "sensor.local" },
    /SENSOR_IP from the environment is not an IPv4 or IPv6 address/,
  ));

Deno.test("config: LOG_LEVEL outside the list is a 78", () =>
  expectConfigError(
    `BACKEND_URL=${url}\nLOG_LEVEL=loud\n`,
    {},
    /LOG_LEVEL from \S+ line 2 is "loud"/,
  ));

Deno.test("config: BACKEND_TIMEOUT_SECONDS that is not a positive number is a 78", () =>
  expectConfigError(
    `BACKEND_URL=${url}\n`,
    { BACKEND_TIMEOUT_SECONDS: "0" },
    /BACKEND_TIMEOUT_SECONDS from the environment is "0"/,
  ));

Deno.test("config: INSTALL_TOKEN and INSTALL_TOKEN_FILE together are a 78", () =>
  expectConfigError(
    `BACKEND_URL=${url}\nINSTALL_TOKEN=${newToken("install")}\n`,
    { INSTALL_TOKEN_FILE: "/run/secrets/install-token" },
    /INSTALL_TOKEN_FILE from the environment is set together with INSTALL_TOKEN \(from \S+ line 2\)/,
  ));

Deno.test("config: a line that is not KEY=value is a 78 naming file and line, not its text", async () => {
  const secret = newToken("install");
  await expectConfigError(
    `BACKEND_URL=${url}\n\nINSTALL_TOKEN ${secret}\n`,
    {},
    /sensor-agent\.env line 3: /,
  );
});

Deno.test("config: a host root outside the permission set is a 78 naming the variable", () =>
  expectConfigError(
    `BACKEND_URL=${url}\nHOST_PROC=/etc\n`,
    {},
    /HOST_PROC from \S+ line 2 names \/etc: this build's permission set does not allow reading \/etc\/net\/dev/,
  ));

Deno.test("config: a config path outside the permission set is a 78", async () => {
  const run = await runAgent(["run", "--config", "/etc/shadow"], { read: ["/tmp/nothing-here"] });
  assert.equal(run.code, 78);
  assert.match(
    run.stderr,
    /config file \/etc\/shadow is outside what this build's permission set may read/,
  );
});

Deno.test("config: a directory in place of the config file is a 78", () =>
  expectConfigError(undefined, {}, /is not a regular file/, (config) => Deno.mkdir(config)));

Deno.test("config: a FIFO in place of the config file is a 78 and does not hang", () =>
  expectConfigError(undefined, {}, /is not a regular file/, async (config) => {
    const mk = await new Deno.Command("mkfifo", { args: [config] }).output();
    assert.equal(mk.code, 0);
  }));

Deno.test("config: a file over 64 KiB is a 78", () =>
  expectConfigError(`BACKEND_URL=${url}\n` + "# padding\n".repeat(7000), {}, /larger than 64 KiB/));

Deno.test("config: binary garbage is a 78", () =>
  expectConfigError(undefined, {}, /is not UTF-8 text|contains NUL bytes/, async (config) => {
    await Deno.writeFile(config, new Uint8Array([0x42, 0x3d, 0xff, 0xfe, 0x00, 0x0a]));
  }));

Deno.test("config: the environment wins over the file for every key", async () => {
  await using dir = await tempDir();
  const config = dir.join("sensor-agent.env");
  await Deno.writeTextFile(
    config,
    `BACKEND_URL=${url}\nSENSOR_PORT=2200\nINSTALL_TOKEN=${newToken("install")}\n`,
  );
  const run = await runAgent(["inventory", "--config", config], {
    read: [dir.path],
    env: { SENSOR_PORT: "2201", SENSOR_IP: "192.0.2.7" },
  });
  assert.equal(run.code, 0, run.stderr);
  const payload = JSON.parse(run.stdout);
  assert.equal(payload.sensorPort, 2201);
  assert.equal(payload.sensorIp, "192.0.2.7");
});

Deno.test("log: LOG_FORMAT=json writes one JSON object per line, fatal line included", async () => {
  await using dir = await tempDir();
  const config = dir.join("sensor-agent.env");
  await Deno.writeTextFile(config, `BACKEND_URL=${url}\nLOG_FORMAT=json\n`);
  const run = await runAgent(["run", "--config", config], { read: [dir.path], write: [dir.path] });
  assert.equal(run.code, 78);
  const lines = run.stderr.trim().split("\n").map((line) => JSON.parse(line));
  assert.ok(lines.length >= 1);
  const fatal = lines.at(-1);
  assert.equal(fatal.level, "error");
  assert.equal(fatal.exitCode, 78);
  assert.match(fatal.msg, /INSTALL_TOKEN is missing/);
});

Deno.test("inventory: without readable host roots, sensorIp still comes from the addresses", async () => {
  const expected = Deno.networkInterfaces().find((a) =>
    a.family === "IPv4" && !a.address.startsWith("127.")
  );
  if (expected === undefined) {
    console.log("skipped: this machine has no non-loopback IPv4 address");
    return;
  }
  await using dir = await tempDir();
  const roots = { proc: dir.join("proc"), sys: dir.join("sys") };
  const env = { HOST_PROC: roots.proc, HOST_SYS: roots.sys };
  // The roots' files granted, as the shipped set grants /host/proc's: granted, and missing.
  const run = await runAgent(["inventory", "--config", dir.join("none.env")], {
    read: [dir.join("none.env"), ...rootReads(roots)],
    env,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /WARN interface flags and counters are missing/);
  const payload = JSON.parse(run.stdout);
  assert.ok(
    Deno.networkInterfaces().some((a) =>
      a.address === payload.sensorIp && !a.address.startsWith("127.")
    ),
    `sensorIp ${payload.sensorIp} is one of the host's addresses`,
  );
  assert.equal(
    payload.interfaces.filter((i: { isManagement: boolean }) => i.isManagement).length,
    1,
  );
});
