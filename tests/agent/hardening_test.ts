// Every path the agent reads is judged where it leads (docs/threat-model.md), tried the way a
// reviewer would: the real main.ts in the layout of support/shipped.ts (the host's /proc and /sys at
// /host/*, a test directory at /etc/ravenxcope, a private mount namespace), under the shipped
// `-P=agent` set, and under a set that grants a host tree's files the way `try` and the tests do.
// HOST_PROC and HOST_SYS leading to a FIFO (which hung the agent deaf to SIGTERM), to /dev/zero
// (which grew its memory without bound) or out of the grant (whose files were read and sent); hard
// links and loose modes on the files holding secrets; a host file that is someone's secret. Each
// run must end within 10 s, and nothing from outside may be printed or sent.
import assert from "node:assert/strict";
import { join } from "node:path";
import { newToken, permissionFlags, readableCopy } from "../support/agent.ts";
import { enrolled, startBackend, type TestBackend } from "../support/backend.ts";
import { rootReads, writeHostTree } from "../support/hosttree.ts";
import { listing } from "../support/seed.ts";
import {
  AGENT_MAIN,
  type RunHow,
  type ShippedHost,
  shippedHost,
  shippedLayoutUnavailable,
} from "../support/shipped.ts";
import { type TempDir, tempDir } from "../support/tempdir.ts";

const unavailable = await shippedLayoutUnavailable();
const SHIPPED = ["-P=agent"];
const BOUNDED: RunHow = { timeoutMs: 10_000 };
/** What only the outside tree holds: its counters and its interface's name. */
const OUTSIDE_COUNTER = "4242424242";
const OUTSIDE_NAME = "outside0";
const SECRET = "root:$6$never-to-be-sent$";

/** A host tree outside every grant, whose one interface and counters must never show up. */
async function outsideTree(dir: string) {
  return await writeHostTree(dir, [{
    name: OUTSIDE_NAME,
    ifindex: 77,
    up: true,
    virtual: true,
    bytesRecv: Number(OUTSIDE_COUNTER),
    bytesSent: Number(OUTSIDE_COUNTER),
  }]);
}

async function mkfifo(path: string): Promise<void> {
  const made = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.equal(made.code, 0, "mkfifo");
}

/** What no run may print and no request may carry. */
function assertNothingOf(texts: string[], what: string[]): void {
  for (const text of texts) {
    for (const mark of what) assert.ok(!text.includes(mark), `${mark} got out: ${text}`);
  }
}

/** Every request body and header the backend saw, as text. */
function seen(backend: TestBackend): string[] {
  return backend.requests.map((r) => `${r.path} ${[...r.headers].join(" ")} ${r.body}`);
}

/** What every case starts from: a backend that enrolls, the layout with a config naming it, and
 * a scratch directory outside every grant (in /tmp, like the layout's: one file system). */
interface Scene extends AsyncDisposable {
  readonly backend: TestBackend;
  readonly host: ShippedHost;
  readonly dir: TempDir;
}

async function setUp(): Promise<Scene> {
  const backend = startBackend(() => enrolled(newToken("sensor")));
  const host = await shippedHost();
  const dir = await tempDir();
  const config = join(host.etc, "sensor-agent.env");
  await Deno.writeTextFile(config, `BACKEND_URL=${backend.url}\n`, { mode: 0o600 });
  return {
    backend,
    host,
    dir,
    async [Symbol.asyncDispose]() {
      await dir[Symbol.asyncDispose]();
      await host[Symbol.asyncDispose]();
      await backend.close();
    },
  };
}

// --- HOST_PROC and HOST_SYS: a FIFO, /dev/zero and a link out of the grant

/** A hazard under a root: how to lay it out in the root's directory, given the outside tree. */
interface RootHazard {
  readonly key: "HOST_PROC" | "HOST_SYS";
  readonly what: string;
  /** Lays the hazard out at `root` (a host tree's, or nothing yet); `outside` is the outside tree. */
  readonly make: (root: string, outside: { proc: string; sys: string }) => Promise<void>;
}

const ROOT_HAZARDS: RootHazard[] = [
  {
    key: "HOST_PROC",
    what: "a FIFO at <root>/net/dev",
    make: async (root) => {
      await Deno.mkdir(join(root, "net"), { recursive: true });
      await Deno.remove(join(root, "net", "dev")).catch(() => {});
      await mkfifo(join(root, "net", "dev"));
    },
  },
  {
    key: "HOST_PROC",
    what: "a link to /dev/zero at <root>/net/dev",
    make: async (root) => {
      await Deno.mkdir(join(root, "net"), { recursive: true });
      await Deno.remove(join(root, "net", "dev")).catch(() => {});
      await Deno.symlink("/dev/zero", join(root, "net", "dev"));
    },
  },
  {
    key: "HOST_PROC",
    what: "a root that links out of the grant",
    make: (root, outside) => Deno.symlink(outside.proc, root),
  },
  {
    key: "HOST_SYS",
    what: "a FIFO as an interface's ifindex",
    make: async (root) => {
      const device = join(root, "class", "net", "eth9");
      await Deno.mkdir(device, { recursive: true });
      await mkfifo(join(device, "ifindex"));
      await Deno.writeTextFile(join(device, "flags"), "0x1003\n");
    },
  },
  {
    key: "HOST_SYS",
    what: "a link to /dev/zero as an interface's ifindex",
    make: async (root) => {
      const device = join(root, "class", "net", "eth9");
      await Deno.mkdir(device, { recursive: true });
      await Deno.symlink("/dev/zero", join(device, "ifindex"));
    },
  },
  {
    key: "HOST_SYS",
    what: "a root that links out of the grant",
    make: (root, outside) => Deno.symlink(outside.sys, root),
  },
];

for (const hazard of ROOT_HAZARDS) {
  Deno.test({
    name:
      `hardening: ${hazard.key} in /etc/ravenxcope with ${hazard.what}: 78 within 10 s, nothing sent`,
    ignore: unavailable !== undefined,
    async fn() {
      await using scene = await setUp();
      const { backend, host, dir } = scene;
      await hazard.make(join(host.etc, "root"), await outsideTree(dir.path));
      const env = { [hazard.key]: "/etc/ravenxcope/root" };
      for (const command of ["inventory", "enroll"]) {
        const run = await host.run(SHIPPED, AGENT_MAIN, [command], {
          ...env,
          INSTALL_TOKEN: newToken("install"),
        }, BOUNDED);
        assert.equal(run.timedOut, false, `${command} hung: ${run.stderr}`);
        assert.equal(run.code, 78, `${command}: ${run.stderr}`);
        assert.equal(run.stdout, "");
        assert.match(
          run.stderr,
          new RegExp(`ERROR ${hazard.key} from the environment names /etc/ravenxcope/root: `),
        );
        assert.equal(run.stderr.trimEnd().split("\n").length, 1, run.stderr);
        assertNothingOf([run.stderr], [OUTSIDE_COUNTER, OUTSIDE_NAME]);
      }
      assert.equal(backend.requests.length, 0, "nothing was sent");
    },
  });
}

/**
 * The same hazards under a set that grants a tree's root files one by one (the `try` set's shape):
 * the grant rule cannot refuse them, so the files' own judging must. A root's own files are judged
 * at start (78); an interface's, each time the set is detected (that interface is left out).
 */
for (const hazard of ROOT_HAZARDS) {
  Deno.test({
    name:
      `hardening: ${hazard.key} granted file by file, with ${hazard.what}: no hang, nothing outside`,
    ignore: unavailable !== undefined,
    async fn() {
      await using scene = await setUp();
      const { backend, host, dir } = scene;
      const outside = await outsideTree(dir.join("outside"));
      // A sound tree with eth0, the hazard added to it (or in place of its root).
      const own = await writeHostTree(dir.join("own"), [
        { name: "eth0", ifindex: 2, up: true, bytesRecv: 1, bytesSent: 2 },
      ]);
      const ownRoot = hazard.key === "HOST_PROC" ? own.proc : own.sys;
      const linksOut = hazard.what.includes("links out");
      const root = linksOut ? dir.join("root") : ownRoot;
      await hazard.make(root, outside);
      const roots = hazard.key === "HOST_PROC"
        ? { proc: root, sys: own.sys }
        : { proc: own.proc, sys: root };
      const flags = permissionFlags({ read: rootReads(roots), write: ["/etc/ravenxcope"] });
      const env = { HOST_PROC: roots.proc, HOST_SYS: roots.sys };
      const atStart = hazard.key === "HOST_PROC" || linksOut;
      for (const command of ["inventory", "enroll"]) {
        const run = await host.run(flags, AGENT_MAIN, [command], {
          ...env,
          INSTALL_TOKEN: newToken("install"),
        }, BOUNDED);
        assert.equal(run.timedOut, false, `${command} hung: ${run.stderr}`);
        assertNothingOf([run.stdout, run.stderr], [OUTSIDE_COUNTER, OUTSIDE_NAME]);
        if (atStart) {
          assert.equal(run.code, 78, `${command}: ${run.stderr}`);
          assert.match(run.stderr, new RegExp(`ERROR ${hazard.key} from the environment names `));
        } else {
          // The interface whose files are not what they must be is left out; eth0 is reported.
          assert.equal(run.code, 0, `${command}: ${run.stderr}`);
          if (command === "inventory") {
            const names = JSON.parse(run.stdout).interfaces.map((i: { name: string }) => i.name);
            assert.deepEqual(names, ["eth0"]);
          }
        }
      }
      assertNothingOf(seen(backend), [OUTSIDE_COUNTER, OUTSIDE_NAME]);
      assert.equal(backend.requests.length, atStart ? 0 : 1);
    },
  });
}

// --- files holding secrets: one name, no writer but the owner (sshd's StrictModes)

/** A file outside /etc/ravenxcope that holds a secret: made by the test, not the machine's own. */
async function secretFile(dir: string, mode = 0o640): Promise<string> {
  const path = join(dir, "shadow");
  await Deno.writeTextFile(path, `${SECRET}\nsecond line\n`);
  await Deno.chmod(path, mode);
  return path;
}

/** How to run the agent's `code` (a readableCopy) as uid 65534. */
function asNobody(code: { dir: string }): RunHow {
  return {
    wrapper: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
    cwd: code.dir,
    timeoutMs: 10_000,
  };
}

for (const uid of [0, 65534]) {
  Deno.test({
    name: `hardening: as uid ${uid}, a hard link as INSTALL_TOKEN_FILE is a 78 and nothing is sent`,
    ignore: unavailable !== undefined,
    async fn() {
      await using scene = await setUp();
      const { backend, host, dir } = scene;
      const secret = await secretFile(dir.path, uid === 0 ? 0o640 : 0o600);
      await Deno.link(secret, join(host.etc, "tok"));
      let script = AGENT_MAIN;
      let how = BOUNDED;
      await using code = uid === 0 ? undefined : await readableCopy();
      if (code !== undefined) {
        // The agent's user owns its directory and files, and links one of its own files.
        await Deno.chown(host.etc, uid, uid);
        for (const name of await listing(host.etc)) {
          await Deno.chown(join(host.etc, name), uid, uid);
        }
        script = code.main;
        how = asNobody(code);
      }
      const run = await host.run(SHIPPED, script, ["enroll"], {
        INSTALL_TOKEN_FILE: "/etc/ravenxcope/tok",
      }, how);
      assert.equal(run.code, 78, run.stderr);
      assert.match(
        run.stderr,
        /INSTALL_TOKEN_FILE from the environment names \/etc\/ravenxcope\/tok, which has 2 hard links/,
      );
      assert.equal(backend.requests.length, 0, "nothing was sent");
      assertNothingOf([run.stdout, run.stderr], [SECRET, "second line"]);
    },
  });
}

/** Loose files holding secrets: each a 78 for every command that reads it, nothing sent. */
const LOOSE_SECRETS: {
  what: string;
  env: Record<string, string>;
  make: (etc: string, dir: string) => Promise<void>;
  says: RegExp;
}[] = [
  {
    what: "an install-token file its group may write",
    env: { INSTALL_TOKEN_FILE: "/etc/ravenxcope/tok" },
    make: async (etc) => {
      await Deno.writeTextFile(join(etc, "tok"), newToken("install"));
      await Deno.chmod(join(etc, "tok"), 0o660);
    },
    says:
      /INSTALL_TOKEN_FILE .* is writable by its group \(mode 0660\)\. Let only its owner write it/,
  },
  {
    what: "a CA file that is a hard link",
    env: { BACKEND_CA_FILE: "/etc/ravenxcope/ca.pem", INSTALL_TOKEN: newToken("install") },
    make: async (etc, dir) => await Deno.link(await secretFile(dir, 0o644), join(etc, "ca.pem")),
    says: /BACKEND_CA_FILE \/etc\/ravenxcope\/ca\.pem cannot be read: has 2 hard links/,
  },
  {
    what: "a config file that is a hard link",
    env: { INSTALL_TOKEN: newToken("install") },
    make: async (etc, dir) => {
      const outside = join(dir, "elsewhere.env");
      await Deno.rename(join(etc, "sensor-agent.env"), outside);
      await Deno.link(outside, join(etc, "sensor-agent.env"));
    },
    says: /config file \/etc\/ravenxcope\/sensor-agent\.env has 2 hard links/,
  },
  {
    what: "a config file others may write",
    env: { INSTALL_TOKEN: newToken("install") },
    make: (etc) => Deno.chmod(join(etc, "sensor-agent.env"), 0o606),
    says: /config file \/etc\/ravenxcope\/sensor-agent\.env is writable by other users/,
  },
];

for (const loose of LOOSE_SECRETS) {
  Deno.test({
    name: `hardening: ${loose.what} is a 78 before anything is sent`,
    ignore: unavailable !== undefined,
    async fn() {
      await using scene = await setUp();
      const { backend, host, dir } = scene;
      await loose.make(host.etc, dir.path);
      const commands = loose.env.BACKEND_CA_FILE
        ? ["enroll", "run"]
        : ["enroll", "run", "inventory"];
      for (const command of commands) {
        const run = await host.run(SHIPPED, AGENT_MAIN, [command], loose.env, BOUNDED);
        assert.equal(run.code, 78, `${command}: ${run.stderr}`);
        assert.match(run.stderr, loose.says);
      }
      assert.equal(backend.requests.length, 0, "nothing was sent");
    },
  });
}

// --- host files: readable by every user, as a host's identity files are

Deno.test({
  name: "hardening: a hard link of a secret as HOST_HOSTNAME_FILE: nothing of it shown or sent",
  ignore: unavailable !== undefined,
  async fn() {
    await using scene = await setUp();
    const { backend, host, dir } = scene;
    await Deno.link(await secretFile(dir.path), join(host.etc, "tok"));
    const env = { HOST_HOSTNAME_FILE: "/etc/ravenxcope/tok", INSTALL_TOKEN: newToken("install") };
    const inventory = await host.run(SHIPPED, AGENT_MAIN, ["inventory"], env, BOUNDED);
    assert.equal(inventory.code, 0, inventory.stderr);
    assert.match(
      inventory.stderr,
      /WARN hostname: \/etc\/ravenxcope\/tok cannot be read \(not readable by other users \(mode 0640\): someone's secret, never reported\); sending this runtime's hostname instead/,
    );
    const enroll = await host.run(SHIPPED, AGENT_MAIN, ["enroll"], env, BOUNDED);
    assert.equal(enroll.code, 0, enroll.stderr);
    assert.equal(backend.requests.length, 1);
    assert.notEqual(JSON.parse(backend.requests[0].body).hostname, SECRET);
    assertNothingOf([inventory.stdout, inventory.stderr, enroll.stderr, ...seen(backend)], [
      SECRET,
      "second line",
      "never-to-be-sent",
    ]);
  },
});
