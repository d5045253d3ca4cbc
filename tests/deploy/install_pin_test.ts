// deploy/install.sh's network drop-ins (docs/systemd.md, Network), run for real as root in the
// bubblewrap sandbox of install_test.ts: `--pin-backend-address` allows only the backend's current
// addresses (resolved through the sandbox's own /etc/hosts), loopback and the resolver; without it,
// a resolver the unit's IPAddressDeny= would cut off (GCE's at 169.254.169.254) is allowed back.
// Skipped without root or bwrap.
import assert from "node:assert/strict";
import { newToken } from "../support/agent.ts";
import {
  createSandbox,
  fakeAgent,
  type InstallRun,
  type Sandbox,
  sandboxUnavailable,
} from "../support/sandbox.ts";
import { tempDir } from "../support/tempdir.ts";

const BACKEND = "https://backend.example:5009";
const DROPINS = "/etc/systemd/system/sensor-agent.service.d";
const PIN = `${DROPINS}/backend-address.conf`;
const RESOLVER = `${DROPINS}/resolver.conf`;

const skip = await sandboxUnavailable();

/** A sandbox test with the names and resolvers given, skipped where the sandbox cannot run. */
function pinTest(
  name: string,
  etc: { hosts?: string; resolvConf?: string },
  fn: (sandbox: Sandbox) => Promise<void>,
) {
  Deno.test({
    name,
    ignore: skip !== undefined,
    fn: async () => {
      await using sandbox = await createSandbox();
      await Deno.writeTextFile(
        sandbox.host("/etc/hosts"),
        `127.0.0.1 localhost\n${etc.hosts ?? ""}`,
      );
      // As Debian ships it: a name on several lines of /etc/hosts has all their addresses.
      await Deno.writeTextFile(sandbox.host("/etc/host.conf"), "multi on\n");
      if (etc.resolvConf !== undefined) {
        await Deno.writeTextFile(sandbox.host("/etc/resolv.conf"), etc.resolvConf);
      }
      await fn(sandbox);
    },
  });
}

function assertExit(run: InstallRun, code: number): void {
  assert.equal(run.code, code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
}

async function install(sandbox: Sandbox, extra: string[], backend = BACKEND) {
  const binary = await sandbox.addFile(`agent-${crypto.randomUUID()}`, fakeAgent("x"), 0o755);
  return await sandbox.install(["--backend-url", backend, "--binary", binary, ...extra], {
    env: { INSTALL_TOKEN: newToken("install") },
  });
}

async function read(sandbox: Sandbox, path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(sandbox.host(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** The assignments of a drop-in, comments left out. */
function assignments(text: string): string[] {
  return text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
}

pinTest(
  "install pin: --pin-backend-address allows only the backend's addresses, loopback and the resolver",
  {
    hosts: "192.0.2.10 backend.example\n2001:db8::10 backend.example\n",
    resolvConf: "nameserver 10.0.0.2\nnameserver 127.0.0.53\nsearch example\n",
  },
  async (sandbox) => {
    assertExit(await install(sandbox, ["--pin-backend-address"]), 0);
    const pin = (await read(sandbox, PIN))!;
    assert.deepEqual(assignments(pin), [
      "[Service]",
      "IPAddressDeny=any",
      "IPAddressAllow=localhost",
      "IPAddressAllow=192.0.2.10/32 2001:db8::10/128",
    ]);
    assert.match(pin, /^# backend: backend\.example$/m, "names the host it was made for");
    assert.match(pin, /install\.sh --pin-backend-address again/, "says what to do when it drifts");
    // IPAddressDeny=any cuts the resolver off too; the local stub is loopback, already allowed.
    assert.deepEqual(assignments((await read(sandbox, RESOLVER))!), [
      "[Service]",
      "IPAddressAllow=10.0.0.2/32",
    ]);
    for (const path of [PIN, RESOLVER]) {
      const info = await Deno.stat(sandbox.host(path));
      assert.deepEqual([info.uid, info.gid, info.mode! & 0o7777], [0, 0, 0o644], path);
    }
  },
);

pinTest(
  "install pin: an address in --backend-url is pinned as it is, IPv6 without its brackets",
  {},
  async (sandbox) => {
    assertExit(await install(sandbox, ["--pin-backend-address"], "https://[2001:db8::5]:5009"), 0);
    assert.match((await read(sandbox, PIN))!, /^IPAddressAllow=2001:db8::5\/128$/m);
  },
);

pinTest(
  "install pin: a backend name that does not resolve is a 69 before anything is installed",
  {},
  async (sandbox) => {
    const run = await install(sandbox, ["--pin-backend-address"]);
    assertExit(run, 69);
    assert.equal(
      run.stderr,
      "install.sh: error: --pin-backend-address: backend.example does not resolve on this host; fix its DNS entry (or use an address in --backend-url), then run install.sh again\n",
    );
    assert.equal(await read(sandbox, PIN), undefined);
    assert.equal(await read(sandbox, "/etc/systemd/system/sensor-agent.service"), undefined);
    assert.equal(await read(sandbox, "/etc/ravenxcope/sensor-agent.env"), undefined);
  },
);

pinTest(
  "install pin: a re-run after the backend moved rewrites the pin and restarts the agent",
  { hosts: "192.0.2.10 backend.example\n" },
  async (sandbox) => {
    sandbox.systemd = true;
    assertExit(await install(sandbox, ["--pin-backend-address"]), 0);
    await Deno.writeTextFile(sandbox.host("/etc/hosts"), "192.0.2.99 backend.example\n");
    await Deno.remove(sandbox.host("/state/systemctl.log"));
    const run = await sandbox.install(["--pin-backend-address"]);
    assertExit(run, 0);
    assert.match((await read(sandbox, PIN))!, /^IPAddressAllow=192\.0\.2\.99\/32$/m);
    assert.match(run.stdout, /pinned the backend backend\.example to 192\.0\.2\.99/);
    const calls = await sandbox.systemctlCalls();
    assert.ok(calls.includes("daemon-reload"), calls.join("\n"));
    assert.ok(calls.includes("restart sensor-agent"), calls.join("\n"));
    // A plain re-run keeps the pin as it is.
    assertExit(await sandbox.install([]), 0);
    assert.match((await read(sandbox, PIN))!, /^IPAddressAllow=192\.0\.2\.99\/32$/m);
  },
);

pinTest(
  "install pin: without the pin, only a resolver the unit's own list cuts off is allowed back (GCE)",
  { resolvConf: "nameserver 169.254.169.254\nnameserver 10.0.0.2\n" },
  async (sandbox) => {
    assertExit(await install(sandbox, []), 0);
    assert.equal(await read(sandbox, PIN), undefined);
    assert.deepEqual(assignments((await read(sandbox, RESOLVER))!), [
      "[Service]",
      "IPAddressAllow=169.254.169.254/32",
    ]);
  },
);

pinTest(
  "install pin: ordinary resolvers and no pin need no drop-in at all",
  { resolvConf: "nameserver 10.0.0.2\nnameserver ::1\n" },
  async (sandbox) => {
    assertExit(await install(sandbox, []), 0);
    assert.equal(await read(sandbox, RESOLVER), undefined);
    assert.equal(await read(sandbox, PIN), undefined);
  },
);

pinTest(
  "install pin: a proxy in the unit's environment is refused: the agent connects to the proxy",
  { hosts: "192.0.2.10 backend.example\n" },
  async (sandbox) => {
    await Deno.mkdir(sandbox.host(DROPINS), { recursive: true });
    await Deno.writeTextFile(
      sandbox.host(`${DROPINS}/proxy.conf`),
      "[Service]\nEnvironment=HTTPS_PROXY=http://proxy.example:3128\n",
    );
    const run = await install(sandbox, ["--pin-backend-address"]);
    assertExit(run, 64);
    assert.match(run.stderr, /sets a proxy, which is what the agent connects to/);
    assert.equal(await read(sandbox, PIN), undefined);
  },
);

pinTest(
  "install pin: --uninstall removes the drop-ins it wrote and keeps the others",
  { hosts: "192.0.2.10 backend.example\n", resolvConf: "nameserver 10.0.0.2\n" },
  async (sandbox) => {
    assertExit(await install(sandbox, ["--pin-backend-address"]), 0);
    await Deno.writeTextFile(sandbox.host(`${DROPINS}/local.conf`), "[Service]\nNice=5\n");
    assertExit(await sandbox.install(["--uninstall"]), 0);
    assert.equal(await read(sandbox, PIN), undefined);
    assert.equal(await read(sandbox, RESOLVER), undefined);
    assert.equal(await read(sandbox, `${DROPINS}/local.conf`), "[Service]\nNice=5\n");
  },
);

const analyze = await new Deno.Command("systemd-analyze", { args: ["--version"] }).output()
  .then((output) => output.success, () => false);

pinTest(
  "install pin: the shipped unit with the installer's drop-ins verifies clean and scores 1.0",
  {
    hosts: "192.0.2.10 backend.example\n2001:db8::10 backend.example\n",
    resolvConf: "nameserver 169.254.169.254\n",
  },
  async (sandbox) => {
    if (!analyze) {
      console.log("skipped: systemd-analyze is not installed");
      return;
    }
    const unit = await Deno.readTextFile(
      new URL("../../deploy/sensor-agent.service", import.meta.url),
    );
    const unitPath = await sandbox.addFile("sensor-agent.service", unit);
    assertExit(await install(sandbox, ["--pin-backend-address", "--unit", unitPath]), 0);
    // Verify fails on an ExecStart binary that does not exist: the copy runs /bin/true.
    await using dir = await tempDir();
    await Deno.mkdir(dir.join("sensor-agent.service.d"));
    await Deno.writeTextFile(
      dir.join("sensor-agent.service"),
      (await read(sandbox, "/etc/systemd/system/sensor-agent.service"))!
        .replace("\nExecStart=/usr/local/bin/sensor-agent ", "\nExecStart=/bin/true "),
    );
    for (const path of [PIN, RESOLVER]) {
      await Deno.writeTextFile(
        dir.join(`sensor-agent.service.d/${path.split("/").pop()}`),
        (await read(sandbox, path))!,
      );
    }
    const analyzeUnit = (args: string[]) =>
      new Deno.Command("systemd-analyze", {
        args: ["--no-pager", ...args, dir.join("sensor-agent.service")],
        env: { SYSTEMD_COLORS: "0" },
      }).output();
    const verify = await analyzeUnit(["verify", "--man=no"]);
    const said = new TextDecoder().decode(verify.stdout) + new TextDecoder().decode(verify.stderr);
    assert.equal(said, "", "systemd-analyze verify printed something");
    const security = await analyzeUnit(["security", "--offline=yes"]);
    const text = new TextDecoder().decode(security.stdout);
    const shown = /Overall exposure level for \S+: (\d+\.\d)/.exec(text)?.[1];
    console.log(`systemd-analyze security --offline=yes, pinned: exposure ${shown}`);
    assert.ok(Number(shown) <= 1.0, text);
    assert.match(text, /IPAddressDeny=\s+Service defines IP address allow list/);
  },
);
