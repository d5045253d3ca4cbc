// Hostile configuration (docs/configuration.md): files that are not what they claim, lines outside
// the grammar, BACKEND_URL values that would leak or mislead, and paths in the config that name
// FIFOs, devices and huge files. Each is one clear 78 naming the file and line (or the variable),
// nothing on disk changes, and nothing hangs. The real main.ts, under the scoped test permissions;
// the unreadable-file cases run it as uid 65534 through setpriv (root ignores file modes), which
// changes the uid only, not Deno's permissions. Cases cli_test.ts already covers (a FIFO, a
// directory, a file over 64 KiB, six bytes of garbage, one bad line, BACKEND_URL with credentials
// in the environment, file:, spaces) are listed in docs/reliability.md, not repeated.
import assert from "node:assert/strict";
import {
  agentCommand,
  type AgentOptions,
  newToken,
  readableCopy,
  runAgent,
} from "../support/agent.ts";
import { enrolled, startBackend } from "../support/backend.ts";
import { FIXTURE_READS, HOST_ENV, listing, seed } from "../support/seed.ts";
import { tempDir } from "../support/tempdir.ts";
import { finish, runWrapped, unavailable } from "../support/wrapped.ts";

const isRoot = Deno.uid() === 0;
const url = "http://127.0.0.1:9";

/**
 * Runs the agent and SIGKILLs it after `ms` if it has not ended: a hung agent may not answer
 * SIGTERM, and the test must end either way.
 */
async function runBounded(args: string[], options: AgentOptions, ms = 10_000) {
  const child = agentCommand(args, options).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, ms);
  try {
    const run = await finish(child);
    return { ...run, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A snapshot of a directory: names, and the bytes of every regular file in it. The empty lock file
 * is left out: an error found after the lock is taken (BACKEND_CA_FILE) leaves it, holding nothing.
 */
async function snapshot(directory: string): Promise<string> {
  const parts: string[] = [];
  for (const name of await listing(directory)) {
    if (name === "sensor-agent.env.lock") continue;
    const info = await Deno.lstat(`${directory}/${name}`);
    const small = info.isFile && info.size <= 1024 * 1024; // not the sparse 10 GB one
    parts.push(
      small ? `${name}=${await Deno.readTextFile(`${directory}/${name}`)}` : `${name} ${info.size}`,
    );
  }
  return parts.join("\n");
}

/**
 * Writes a config with `text` (after `setup`), runs `run` on it, and expects one 78 line matching
 * `message` with the directory unchanged and a prompt end.
 */
async function expect78(
  text: string | Uint8Array | undefined,
  message: RegExp,
  setup?: (config: string, dir: string) => Promise<void>,
) {
  await using dir = await tempDir();
  const config = dir.join("sensor-agent.env");
  if (typeof text === "string") await Deno.writeTextFile(config, text);
  if (text instanceof Uint8Array) await Deno.writeFile(config, text);
  await setup?.(config, dir.path);
  const before = await snapshot(dir.path);
  const started = performance.now();
  const run = await runBounded(["run", "--config", config], {
    read: [dir.path],
    write: [dir.path],
  });
  assert.equal(run.timedOut, false, "the agent hung");
  assert.equal(run.code, 78, run.stderr);
  assert.match(run.stderr, message);
  // One fatal line; the only other line allowed is the warning about an http:// BACKEND_URL.
  const others = run.stderr.trim().split("\n").filter((l) =>
    !/ WARN BACKEND_URL uses http:/.test(l)
  );
  assert.equal(others.length, 1, `one line: ${run.stderr}`);
  assert.equal(await snapshot(dir.path), before, "nothing changed on disk");
  assert.ok(performance.now() - started < 5_000, "a prompt answer");
}

async function mkfifo(path: string) {
  const made = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.equal(made.code, 0, "mkfifo");
}

/** A character device like /dev/zero (major 1, minor 5) at `path`: endless zeros. */
async function mkzero(path: string) {
  const made = await new Deno.Command("mknod", { args: [path, "c", "1", "5"] }).output();
  assert.equal(made.code, 0, "mknod");
}

// --- the file itself ---

const setprivMissing = isRoot ? await unavailable("setpriv", ["--version"]) : "needs root";
if (setprivMissing !== undefined) {
  console.log(`skipped: hostile_config_test.ts (unreadable cases): ${setprivMissing}`);
}

for (
  const [what, mode, dirMode, message] of [
    [
      "an unreadable config file (mode 0000)",
      0o000,
      0o755,
      /cannot read config file \S+: Permission denied/,
    ],
    [
      "a config in a directory it may not enter (0700, owned by root)",
      0o600,
      0o700,
      /cannot read config file \S+: Permission denied/,
    ],
  ] as const
) {
  Deno.test({
    name: `hostile config: ${what}, for uid 65534, is a 78 naming the file`,
    ignore: setprivMissing !== undefined,
    async fn() {
      await using dir = await tempDir();
      await Deno.chmod(dir.path, 0o755); // traversable, so only the file's own mode refuses
      const inner = dir.join("conf");
      await Deno.mkdir(inner);
      const config = `${inner}/sensor-agent.env`;
      const text = `INSTALL_TOKEN=${newToken("install")}\nBACKEND_URL=${url}\n`;
      await Deno.writeTextFile(config, text);
      await Deno.chmod(config, mode);
      await Deno.chmod(inner, dirMode);
      // uid 65534 runs a copy of the code it can read: the clone may be in a 0700 directory.
      await using code = await readableCopy();
      const setpriv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
      const run = await runWrapped(setpriv, ["run", "--config", config], {
        read: [dir.path],
        write: [dir.path],
        main: code.main,
      });
      assert.equal(run.code, 78, run.stderr);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /Check that \S+ exists and that the agent's user may read it/);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
      assert.equal(await Deno.readTextFile(config), text);
      assert.deepEqual(await listing(inner), ["sensor-agent.env"]);
    },
  });
}

Deno.test("hostile config: a 10 MB config file is a 78 naming the file, read no further", () =>
  expect78(
    `BACKEND_URL=${url}\n${
      "# padding padding padding padding padding padding padding\n".repeat(180_000)
    }`,
    /config file \S+sensor-agent\.env is larger than 64 KiB/,
  ));

Deno.test("hostile config: a sparse 10 GB config file is a 78 at once", () =>
  expect78(undefined, /is larger than 64 KiB/, async (config) => {
    using file = await Deno.open(config, { write: true, create: true });
    await file.truncate(10 * 1024 ** 3);
  }));

Deno.test("hostile config: 4 KiB of random bytes is a 78 naming the file", () =>
  expect78(
    crypto.getRandomValues(new Uint8Array(4096)),
    /config file \S+sensor-agent\.env (is not UTF-8 text|contains NUL bytes)/,
  ));

Deno.test("hostile config: a UTF-16 file is a 78 naming the file", () =>
  expect78(
    new Uint8Array([0xff, 0xfe, ...[..."BACKEND_URL=x\n"].flatMap((c) => [c.charCodeAt(0), 0])]),
    /config file \S+sensor-agent\.env (is not UTF-8 text|contains NUL bytes)/,
  ));

/** Lines outside the grammar: each is named by file and line (3), its text never echoed. */
const badLines: [string, (secret: string) => string][] = [
  ["a space inside the key", (v) => `BACKEND URL=${v}`],
  ["no key before =", (v) => `=${v}`],
  ["a key starting with a digit", (v) => `1KEY=${v}`],
  ["a dash in the key", (v) => `SENSOR-TOKEN=${v}`],
  ["an unclosed double quote", (v) => `INSTALL_TOKEN="${v}`],
  ["an unclosed single quote", (v) => `INSTALL_TOKEN='${v}`],
  ["text after the closing quote", (v) => `INSTALL_TOKEN='${v}'x`],
  ["a quote inside an unquoted value", (v) => `INSTALL_TOKEN=a"${v}`],
  ["a section header", (v) => `[${v}]`],
  ["a := assignment", (v) => `INSTALL_TOKEN:=${v}`],
  ["export alone", () => "export"],
  ["a heredoc", (v) => `INSTALL_TOKEN<<EOF ${v}`],
  ["a no-break space before the key", (v) => `\u00a0INSTALL_TOKEN=${v}`],
];
for (const [what, line] of badLines) {
  Deno.test(`hostile config: a line with ${what} is a 78 naming file and line, not the value`, async () => {
    const secret = newToken("install"); // scanned for in the output like every token
    await expect78(
      `SENSOR_ID=sensor-1\nBACKEND_URL=${url}\n${line(secret)}\nSENSOR_PORT=22\n`,
      /^\S+ ERROR \S+sensor-agent\.env line 3: /,
    );
  });
}

/** BACKEND_URL values that would leak a secret or reach the wrong place, from the file. */
const badUrls: [string, string, RegExp][] = [
  ["credentials", "https://agent:s3cret@backend.example", /line 2 carries credentials/],
  ["a user name only", "https://agent@backend.example", /line 2 carries credentials/],
  ["a file: URL", "file:///etc/shadow", /line 2 uses file: instead of http: or https:/],
  ["a javascript: URL", "javascript:alert(1)", /line 2 uses javascript: instead of/],
  ["a space", '"https://backend.example /x"', /line 2 contains white space/],
  ["a tab", '"https://backend.example\t"', /line 2 contains white space/],
  ["no host", "https://", /line 2 is not a URL/],
  ["a query", "https://backend.example/?token=x", /line 2 carries a query or fragment/],
];
for (const [what, value, message] of badUrls) {
  Deno.test(`hostile config: BACKEND_URL with ${what} in the file is a 78 naming file and line`, () =>
    expect78(
      `SENSOR_ID=sensor-1\nBACKEND_URL=${value}\nINSTALL_TOKEN=${newToken("install")}\n`,
      new RegExp(`BACKEND_URL from \\S+sensor-agent\\.env ${message.source}`),
    ));
}

// --- symlinks: followed as the contract says, refused where they lead to no regular file ---

Deno.test("hostile config: a symlink to a FIFO is a 78 and does not hang", () =>
  expect78(undefined, /is not a regular file/, async (config, dir) => {
    await mkfifo(`${dir}/fifo`);
    await Deno.symlink("fifo", config);
  }));

Deno.test("hostile config: a symlink to a directory is a 78", () =>
  expect78(undefined, /is not a regular file/, async (config, dir) => {
    await Deno.mkdir(`${dir}/real`);
    await Deno.symlink("real", config);
  }));

Deno.test({
  name: "hostile config: a symlink to an endless character device is a 78, read no further",
  ignore: !isRoot,
  fn: () =>
    expect78(undefined, /is not a regular file/, async (config, dir) => {
      await mkzero(`${dir}/zero`);
      await Deno.symlink("zero", config);
    }),
});

Deno.test("hostile config: a symlink loop is a 78 naming the file", () =>
  expect78(undefined, /cannot read config file \S+sensor-agent\.env/, async (config, dir) => {
    await Deno.symlink("loop-b", config);
    await Deno.symlink("sensor-agent.env", `${dir}/loop-b`);
  }));

Deno.test("hostile config: a chain of two symlinks is followed: the target rewritten, both links kept", async () => {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(() => enrolled(sensorToken));
  const s = await seed(backend.url);
  await using _ = s.dir;
  await Deno.mkdir(s.dir.join("a"));
  await Deno.mkdir(s.dir.join("b"));
  await Deno.rename(s.config, s.dir.join("b/real.env"));
  await Deno.symlink("../b/real.env", s.dir.join("a/hop.env"));
  await Deno.symlink("a/hop.env", s.config);
  const run = await runAgent(["enroll", ...s.args], s.options);
  assert.equal(run.code, 0, run.stderr);
  assert.ok((await Deno.lstat(s.config)).isSymlink);
  assert.ok((await Deno.lstat(s.dir.join("a/hop.env"))).isSymlink);
  assert.equal(
    await Deno.readTextFile(s.dir.join("b/real.env")),
    `SENSOR_ID=sensor-1\n# INSTALL_TOKEN consumed during enrollment\nBACKEND_URL=${backend.url}\nSENSOR_TOKEN=${sensorToken}\n`,
  );
  assert.equal((await Deno.stat(s.dir.join("b/real.env"))).mode! & 0o777, 0o600);
  assert.deepEqual(await listing(s.dir.join("b")), ["real.env", "real.env.lock"]);
});

// --- paths the config names: INSTALL_TOKEN_FILE, BACKEND_CA_FILE, HOST_*_FILE ---

/** A config naming `variable`=<dir>/<name>, where `make` puts something hostile. */
function namedPath(
  variable: string,
  make: (path: string) => Promise<void>,
  extra = `INSTALL_TOKEN=${newToken("install")}\n`,
) {
  return async (config: string, dir: string) => {
    await make(`${dir}/named`);
    await Deno.writeTextFile(config, `BACKEND_URL=${url}\n${variable}=${dir}/named\n${extra}`);
  };
}

const hostilePaths: [string, (path: string) => Promise<void>, RegExp, boolean][] = [
  ["a FIFO", mkfifo, /which is not a regular file/, false],
  ["a directory", (path) => Deno.mkdir(path), /which is not a regular file/, false],
  ["an endless character device", mkzero, /which is not a regular file/, true],
  [
    "a 10 MB file",
    (path) => Deno.writeTextFile(path, "a".repeat(10 * 1024 * 1024)),
    /which is larger than 64 KiB/,
    false,
  ],
];
for (const [what, make, message, needsRoot] of hostilePaths) {
  Deno.test({
    name: `hostile config: INSTALL_TOKEN_FILE naming ${what} is a 78 naming the variable, no hang`,
    ignore: needsRoot && !isRoot,
    fn: () =>
      expect78(
        undefined,
        new RegExp(
          `INSTALL_TOKEN_FILE from \\S+sensor-agent\\.env line 2 names \\S+ ${message.source}`,
        ),
        namedPath("INSTALL_TOKEN_FILE", make, ""),
      ),
  });
}

for (
  const [what, make, needsRoot] of [["a FIFO", mkfifo, false], [
    "an endless character device",
    mkzero,
    true,
  ]] as const
) {
  Deno.test({
    name: `hostile config: BACKEND_CA_FILE naming ${what} is a 78 naming the variable, no hang`,
    ignore: needsRoot && !isRoot,
    fn: () =>
      expect78(
        undefined,
        /ERROR BACKEND_CA_FILE \S+ cannot be read: is not a regular file/,
        namedPath("BACKEND_CA_FILE", make),
      ),
  });
}

Deno.test("hostile config: HOST_HOSTNAME_FILE and HOST_MACHINE_ID_FILE naming FIFOs fall back, no hang", async () => {
  await using dir = await tempDir();
  await mkfifo(dir.join("hostname"));
  await mkfifo(dir.join("machine-id"));
  const config = dir.join("sensor-agent.env");
  await Deno.writeTextFile(config, `BACKEND_URL=${url}\nINSTALL_TOKEN=${newToken("install")}\n`);
  const env = {
    ...HOST_ENV,
    HOST_HOSTNAME_FILE: dir.join("hostname"),
    HOST_MACHINE_ID_FILE: dir.join("machine-id"),
  };
  const run = await runBounded(["inventory", "--config", config], {
    read: [...FIXTURE_READS, dir.path],
    env,
  });
  assert.equal(run.timedOut, false, "the agent hung");
  assert.equal(run.code, 0, run.stderr);
  assert.ok(JSON.parse(run.stdout).hostname.length > 0);
});
