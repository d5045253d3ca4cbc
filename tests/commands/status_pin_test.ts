// `status --check` and the backend-address pin (docs/install.md, Pinning the backend's address),
// under the shipped -P=agent set: in a private mount namespace, a test directory is bound over
// /etc/systemd/system (holding the drop-in install.sh would write), another over /etc/ravenxcope,
// and /etc/hosts over the host's, so that the backend's name leads to a backend on 127.0.0.1. When
// the backend's address is no longer the pinned one, the check says so in one line and exits 69.
import assert from "node:assert/strict";
import { join } from "node:path";
import { newToken, PROJECT } from "../support/agent.ts";
import { startBackend } from "../support/backend.ts";
import { keptEnv } from "../support/env.ts";
import { shippedHost, shippedLayoutUnavailable } from "../support/shipped.ts";
import { tempDir } from "../support/tempdir.ts";
import { finish } from "../support/wrapped.ts";

const unavailable = await shippedLayoutUnavailable();
const PIN_LINE = /^address pin: .*$/m;

/** The drop-in as install.sh --pin-backend-address writes it, for `host` and these prefixes. */
function pin(host: string, prefixes: string): string {
  return `# Written by install.sh --pin-backend-address (test copy)\n# backend: ${host}\n` +
    `[Service]\nIPAddressDeny=any\nIPAddressAllow=localhost\nIPAddressAllow=${prefixes}\n`;
}

/** `status --check` under -P=agent with `dropIn` (if any) installed; the backend on 127.0.0.1. */
async function statusWith(dropIn: string | undefined) {
  await using backend = startBackend(() => new Response(null, { status: 204 }));
  const port = new URL(backend.url).port;
  await using host = await shippedHost();
  await using dir = await tempDir();
  await Deno.writeTextFile(
    join(host.etc, "sensor-agent.env"),
    `BACKEND_URL=http://backend.test:${port}\nSENSOR_TOKEN=${newToken("sensor")}\n`,
    { mode: 0o600 },
  );
  await Deno.writeTextFile(dir.join("hosts"), "127.0.0.1 localhost backend.test\n");
  await Deno.mkdir(dir.join("system/sensor-agent.service.d"), { recursive: true });
  if (dropIn !== undefined) {
    await Deno.writeTextFile(
      dir.join("system/sensor-agent.service.d/backend-address.conf"),
      dropIn,
      { mode: 0o644 },
    );
  }
  const mounts = 'mount --bind "$0/system" /etc/systemd/system && ' +
    'mount --bind "$0/hosts" /etc/hosts && mount --bind "$1" /etc/ravenxcope && shift && exec "$@"';
  const run = await finish(
    new Deno.Command("unshare", {
      args: [
        ...["-m", "--propagation", "private", "sh", "-c", mounts, dir.path, host.etc],
        ...[Deno.execPath(), "run", "-q", "--no-prompt", "-P=agent", join(PROJECT, "main.ts")],
        ...["status", "--check"],
      ],
      cwd: PROJECT,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1", ...keptEnv() },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn(),
  );
  assert.equal(backend.requests.length, 1, "the HEAD check reached the backend");
  return run;
}

Deno.test({
  name: "status pin: with no drop-in, status --check says nothing of a pin",
  ignore: unavailable !== undefined,
  async fn() {
    const run = await statusWith(undefined);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.doesNotMatch(run.stdout, PIN_LINE);
  },
});

Deno.test({
  name: "status pin: a pin that holds the backend's address is reported, exit 0",
  ignore: unavailable !== undefined,
  async fn() {
    const run = await statusWith(pin("backend.test", "127.0.0.1/32"));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(
      PIN_LINE.exec(run.stdout)?.[0],
      "address pin: backend.test is at 127.0.0.1, which " +
        "/etc/systemd/system/sensor-agent.service.d/backend-address.conf allows",
    );
  },
});

Deno.test({
  name: "status pin: a backend that moved off its pinned address is one line and exit 69",
  ignore: unavailable !== undefined,
  async fn() {
    // The test's backend is on loopback, which every pin install.sh writes allows (localhost):
    // left out here, the pinned 192.0.2.10 is the backend's old address, 127.0.0.1 its new one.
    const moved = pin("backend.test", "192.0.2.10/32").replace("IPAddressAllow=localhost\n", "");
    const run = await statusWith(moved);
    assert.equal(run.code, 69, run.stdout + run.stderr);
    assert.match(run.stdout, /^backend check: answered HTTP 204$/m);
    assert.equal(
      PIN_LINE.exec(run.stdout)?.[0],
      "address pin: backend.test is now at 127.0.0.1, which " +
        "/etc/systemd/system/sensor-agent.service.d/backend-address.conf does not allow, so the " +
        "service cannot reach the backend; re-run install.sh with --pin-backend-address",
    );
  },
});

Deno.test({
  name: "status pin: a pin made for another backend host is one line and exit 69",
  ignore: unavailable !== undefined,
  async fn() {
    const run = await statusWith(pin("old-backend.example", "192.0.2.10/32"));
    assert.equal(run.code, 69, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /^address pin: \S+backend-address\.conf was made for old-backend\.example, but BACKEND_URL names backend\.test, which the service cannot reach; re-run install\.sh with --pin-backend-address$/m,
    );
  },
});
