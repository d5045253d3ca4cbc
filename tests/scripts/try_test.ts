// `deno task try` (scripts/try.ts): the agent on this machine, as a user without /host mounts,
// under deno.json's `try` set. The set is the shipped `agent` set with only its paths moved into
// .try/, and a run shows this machine's interfaces with real flags and counters, then leaves
// nothing behind. Run as uid 65534 when the tests run as root (setpriv), else as this user, in a
// copy of the project that user owns: the try-out writes .try/ inside the checkout it runs from.
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT, readableCopy } from "../support/agent.ts";
import { keptEnv } from "../support/env.ts";
import { unavailable } from "../support/wrapped.ts";

interface PermissionSet {
  read: string[];
  write: string[];
  env: string[];
  sys: string[];
  net: boolean | string[];
}

/** Where each shipped path lives in the try-out: deno.json's `try` set must follow this table. */
const MOVED: [string, string][] = [
  ["/etc/ravenxcope", ".try/etc"],
  ["/host/", ".try/"],
  ["/host-", ".try/host-"],
  ["/run/secrets/ravenxcope_install_token", ".try/install_token"],
];

function moved(path: string): string {
  for (const [from, to] of MOVED) {
    if (path === from || (/[/-]$/.test(from) && path.startsWith(from))) {
      return to + path.slice(from.length);
    }
  }
  return path; // the machine's own /etc/os-release and /etc/machine-id are the host's here
}

Deno.test("try: the `try` set is the `agent` set with only its paths moved into .try/", async () => {
  const sets = JSON.parse(await Deno.readTextFile(join(PROJECT, "deno.json"))).permissions;
  const agent = sets.agent as PermissionSet;
  const tryOut = sets.try as PermissionSet;
  assert.deepEqual(tryOut, {
    ...agent,
    read: agent.read.map(moved),
    write: agent.write.map(moved),
  });
});

const asNobody = Deno.uid() === 0;
const noSetpriv = asNobody ? await unavailable("setpriv", ["--version"]) : undefined;

Deno.test({
  name: "try: `deno task try --beats 2` shows this machine's interfaces with real counters",
  ignore: noSetpriv !== undefined,
  async fn() {
    const config = JSON.parse(await Deno.readTextFile(join(PROJECT, "deno.json")));
    const task = (config.tasks.try as string).split(" ");
    assert.deepEqual(task.slice(0, 2), ["deno", "run"]);
    // The project and this deno, where uid 65534 may read and run them.
    const names = [
      "main.ts",
      "lib",
      "scripts",
      "reference-backend",
      "deploy",
      "deno.json",
      "deno.lock",
    ];
    await using copy = await readableCopy(names);
    const bin = join(copy.dir, "bin");
    await Deno.mkdir(bin);
    await Deno.copyFile(Deno.execPath(), join(bin, "deno"));
    await Deno.chmod(join(bin, "deno"), 0o755);
    const home = join(copy.dir, "home");
    await Deno.mkdir(home);
    if (asNobody) {
      for (const path of [copy.dir, home]) await Deno.chown(path, 65534, 65534);
    }
    const wrapper = asNobody ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    const command = [join(bin, "deno"), ...task.slice(1), "--beats", "2", "--interval", "1"];
    const [program, ...args] = [...wrapper, ...command];
    const { NODE_EXTRA_CA_CERTS, SSL_CERT_FILE } = keptEnv();
    const output = await new Deno.Command(program, {
      args,
      cwd: copy.dir,
      env: {
        PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
        HOME: home,
        DENO_DIR: join(home, "deno"),
        ...(NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS } : {}),
        ...(SSL_CERT_FILE ? { SSL_CERT_FILE } : {}),
        NO_COLOR: "1",
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    assert.match(text, /^heartbeat 2 from /m);
    assert.match(text, /agent stopped \(exit 0\)/);
    // Tokens only as fingerprints: no 43-character base64url run (the backend's tokens).
    assert.doesNotMatch(text, /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/);
    await assert.rejects(Deno.stat(join(copy.dir, ".try")), Deno.errors.NotFound);

    const namespaced = /^unshare -rm: /m.test(text);
    if (!namespaced) {
      assert.match(text, /^unshare .*: running without \.try\/proc and \.try\/sys/m);
      console.log(`skipped: real counters in the try-out: ${/^unshare .*$/m.exec(text)?.[0]}`);
      return;
    }
    // lo as the machine's sysfs and procfs show it: up, loopback, virtual, and carrying traffic.
    const lo = /^ {4}lo +(yes|-) +(yes|-) +(yes|-) +(yes|-) +(yes|-) +(\d+) +(\d+)$/m.exec(text);
    assert.ok(lo, text);
    assert.deepEqual(lo.slice(1, 4), ["yes", "yes", "yes"], lo[0]);
    assert.ok(Number(lo[6]) > 0 && Number(lo[7]) > 0, lo[0]);
    assert.doesNotMatch(text, /interface flags and counters are missing/);
  },
});

if (noSetpriv !== undefined) console.log(`skipped: try_test.ts (run as uid 65534): ${noSetpriv}`);
