// deploy/sensor-agent.service started for real by systemd 252, in a throwaway container
// (support/systemd_container.ts): the shipped unit text, with a drop-in that only swaps the
// compiled binary (which `deno compile` cannot build here) for `deno run -P=agent main.ts` and
// sends its output to a file. What the unit's kernel-side settings do is measured, not assumed:
// the agent enrolls and beats under all of them; with every Deno permission a probe still cannot
// listen or reach a metadata address (SocketBindDeny=, IPAddressDeny=); and a backend that moved
// off its pinned address is out of the agent's reach until the pin is renewed, which `status
// --check` (run in the container, outside the unit, as an operator would) says; a resolver at the
// metadata address (GCE's) is cut off too, until install.sh's resolver drop-in allows it back.
import assert from "node:assert/strict";
import { join } from "node:path";
import { newToken, PROJECT } from "../support/agent.ts";
import { keptEnv } from "../support/env.ts";
import {
  CONTAINER_DENO,
  CONTAINER_PROJECT,
  startSystemdContainer,
  type SystemdContainer,
  systemdContainerUnavailable,
} from "../support/systemd_container.ts";

const unavailable = await systemdContainerUnavailable();
const UNIT = await Deno.readTextFile(join(PROJECT, "deploy", "sensor-agent.service"));
const AGENT_UID = 990;
const BACKEND = "10.77.0.1";
const METADATA = ["169.254.169.254", "169.254.170.2", "100.100.100.200", "168.63.129.16"];
/** lo's addresses in the container: the backend, and stand-ins for the metadata services. */
const SETUP = [
  "ip link set lo up",
  ...[BACKEND, ...METADATA].map((a) => `ip addr add ${a}/32 dev lo`),
  "ip addr add fd00:ec2::254/128 dev lo nodad",
].join("\n");

/** The one change to the shipped unit: what runs, and where its output goes. */
function swapExec(command: string, name: string): string {
  return `[Unit]
DefaultDependencies=no
[Service]
ExecStart=
ExecStart=${CONTAINER_DENO} run -q --no-prompt --no-lock ${command}
WorkingDirectory=${CONTAINER_PROJECT}
Environment=DENO_DIR=/tmp/deno DENO_NO_UPDATE_CHECK=1
StandardOutput=truncate:/run/test/${name}
StandardError=inherit
Restart=no
`;
}

/** A process in the container's network, its stdout read line by line. */
async function startIn(container: SystemdContainer, script: string, args: string[]) {
  const child = new Deno.Command(container.inNetwork[0], {
    args: [...container.inNetwork.slice(1), Deno.execPath(), "run", "-q", "-A", "--unstable-net"]
      .concat([join(PROJECT, "tests", "support", script), ...args]),
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...keptEnv() },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: string[] = [];
  const reading = (async () => {
    let pending = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop()!;
      lines.push(...parts);
    }
  })();
  await until("the process to be ready", () => lines.length > 0);
  return {
    lines,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
      await reading;
    },
  };
}

async function until(what: string, done: () => boolean | Promise<boolean>, ms = 30_000) {
  const end = performance.now() + ms;
  while (!(await done())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** systemctl show's properties as a record. */
async function show(container: SystemdContainer, unit: string, ...properties: string[]) {
  const { out } = await container.systemctl("show", unit, ...properties.map((p) => `-p${p}`));
  return Object.fromEntries(out.trim().split("\n").map((line) => line.split(/=(.*)/s, 2)));
}

/** The pin as install.sh writes it, for backend.test at `address`. */
function pin(address: string): string {
  return "# backend: backend.test\n[Service]\nIPAddressDeny=any\nIPAddressAllow=localhost\n" +
    `IPAddressAllow=${address}/32\n`;
}

/** Writes the agent's config into the container's /etc/ravenxcope, owned by the agent's user. */
async function writeConfig(container: SystemdContainer, text: string): Promise<void> {
  const path = join(container.configDir, "sensor-agent.env");
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  await Deno.chown(path, AGENT_UID, AGENT_UID);
}

/** `deno run <args>` in the container as root, outside any unit: an operator's shell there. */
async function denoInside(container: SystemdContainer, args: string[]) {
  const [program, ...rest] = container.inside;
  const output = await new Deno.Command(program, {
    args: [
      ...rest,
      "sh",
      "-c",
      'cd "$0" && exec "$@"',
      CONTAINER_PROJECT,
      CONTAINER_DENO,
      "run",
      "-q",
    ]
      .concat(["--no-prompt", "--no-lock", ...args]),
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", DENO_DIR: "/tmp/deno-operator", NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** Starts `unit` and waits until it has exited; returns its main process's exit status. */
async function runToEnd(container: SystemdContainer, unit: string): Promise<number> {
  const start = await container.systemctl("start", unit);
  assert.equal(start.code, 0, start.out);
  let status: Record<string, string> = {};
  await until(`${unit} to exit`, async () => {
    status = await show(container, unit, "ActiveState", "ExecMainStatus", "ExecMainPID");
    return status.ActiveState === "inactive" || status.ActiveState === "failed";
  });
  return Number(status.ExecMainStatus);
}

Deno.test({
  name: "unit runtime: under systemd the shipped unit enrolls and beats, pinned to its backend",
  ignore: unavailable !== undefined,
  async fn() {
    await using container = await startSystemdContainer({ setup: SETUP, agentUid: AGENT_UID });
    await using backend = await startIn(container, "unit_backend.ts", [BACKEND, "8080"]);
    await writeConfig(
      container,
      `BACKEND_URL=http://${BACKEND}:8080\nINSTALL_TOKEN=${newToken("install")}\n`,
    );
    await container.writeUnit("sensor-agent.service", UNIT);
    await container.writeUnit(
      "sensor-agent.service.d/test.conf",
      swapExec(
        `-P=agent ${CONTAINER_PROJECT}/main.ts run --config /etc/ravenxcope/sensor-agent.env`,
        "agent",
      ),
    );
    // What install.sh --pin-backend-address writes (install_pin_test.ts): nothing else is reachable.
    await container.writeUnit("sensor-agent.service.d/backend-address.conf", pin(BACKEND));
    const start = await container.systemctl("start", "sensor-agent.service");
    assert.equal(start.code, 0, start.out);
    await until(
      "two heartbeats",
      () => backend.lines.filter((line) => line.endsWith("/heartbeat")).length >= 2,
    );
    const state = await show(container, "sensor-agent.service", "ActiveState", "NRestarts", "User");
    assert.deepEqual(state, { ActiveState: "active", NRestarts: "0", User: "ravenxcope" });
    assert.equal(backend.lines.filter((line) => line.endsWith("/enroll")).length, 1);
    const config = await Deno.readTextFile(join(container.configDir, "sensor-agent.env"));
    assert.match(config, /^SENSOR_TOKEN=unit\./m, "the token was saved through the unit's sandbox");
    assert.doesNotMatch(await container.output("agent"), / ERROR /);
    await container.systemctl("stop", "sensor-agent.service");
  },
});

Deno.test({
  name: "unit runtime: with every Deno permission, the unit still refuses binding and metadata",
  ignore: unavailable !== undefined,
  async fn() {
    await using container = await startSystemdContainer({
      setup: SETUP,
      agentUid: AGENT_UID,
      hosts: "169.254.169.254 metadata.google.internal innocent.test\n",
    });
    await using standIn = await startIn(container, "metadata_stand_in.ts", [
      ...METADATA,
      "fd00:ec2::254",
    ]);
    const probe = [
      `${CONTAINER_PROJECT}/tests/support/network_probe.ts`,
      standIn.lines[0],
      "500",
    ];
    // The same probe in the same network, outside the unit: every stand-in answers.
    const outside = await denoInside(container, ["-A", ...probe]);
    assert.equal(outside.code, 0, outside.stderr);
    const baseline: Record<string, string> = JSON.parse(outside.stdout);
    await container.writeUnit("sensor-agent.service", UNIT);
    await container.writeUnit(
      "sensor-agent.service.d/test.conf",
      swapExec(`-A ${probe.join(" ")}`, "probe"),
    );
    assert.equal(await runToEnd(container, "sensor-agent.service"), 0);
    const inUnit: Record<string, string> = JSON.parse(await container.output("probe"));
    // listen() fails at once (EPERM, the ~listen system call filter); packets to and from a
    // denied address are dropped, so those attempts time out.
    let checked = 0;
    for (const [attempt, verdict] of Object.entries(inUnit)) {
      const listens = /^(listen|Deno\.serve)/.test(attempt);
      const metadata = /169\.254|100\.100|168\.63|fd00:ec2|2852039166|::ffff|metadata|resolves/;
      if (attempt.startsWith("fetch the backend") || (!listens && !metadata.test(attempt))) {
        continue;
      }
      assert.equal(baseline[attempt], "allowed", `${attempt}, outside the unit`);
      const stopped = listens ? /PermissionDenied: Operation not permitted/ : /TimeoutError/;
      assert.match(verdict, stopped, attempt);
      checked++;
    }
    assert.ok(checked >= 15, `${checked} attempts checked`);
    assert.equal(inUnit["fetch the backend on 127.0.0.1"], "allowed", "loopback stays open");
  },
});

Deno.test({
  name:
    "unit runtime: a backend that moved off its pin is out of reach, and status --check says so",
  ignore: unavailable !== undefined,
  async fn() {
    await using container = await startSystemdContainer({
      setup: SETUP,
      agentUid: AGENT_UID,
      hosts: `${BACKEND} backend.test\n`,
    });
    await using backend = await startIn(container, "unit_backend.ts", [BACKEND, "8080"]);
    await writeConfig(
      container,
      `BACKEND_URL=http://backend.test:8080\nSENSOR_TOKEN=${newToken("sensor")}\n` +
        "BACKEND_TIMEOUT_SECONDS=2\n",
    );
    await container.writeUnit("sensor-agent.service", UNIT);
    await container.writeUnit(
      "sensor-agent.service.d/test.conf",
      swapExec(
        `-P=agent ${CONTAINER_PROJECT}/main.ts run --config /etc/ravenxcope/sensor-agent.env`,
        "agent",
      ),
    );
    // Pinned when the backend was at 10.77.0.9; it has moved to 10.77.0.1 since.
    await container.writeUnit("sensor-agent.service.d/backend-address.conf", pin("10.77.0.9"));
    assert.equal((await container.systemctl("start", "sensor-agent.service")).code, 0);
    await until(
      "the agent to lose the backend",
      async () => /WARN backend lost/.test(await container.output("agent")),
    );
    assert.deepEqual(backend.lines, ["ready"], "the kernel let nothing through");
    // The operator's check, in the container but outside the unit.
    const status = await denoInside(container, ["-P=agent", "main.ts", "status", "--check"]);
    assert.equal(status.code, 69, status.stdout + status.stderr);
    assert.match(status.stdout, /^backend check: answered HTTP 204$/m);
    assert.match(
      status.stdout,
      /^address pin: backend\.test is now at 10\.77\.0\.1, which \S+backend-address\.conf does not allow, so the service cannot reach the backend; re-run install\.sh with --pin-backend-address$/m,
    );
    // What re-running install.sh --pin-backend-address does: the pin follows, beats land.
    await container.writeUnit("sensor-agent.service.d/backend-address.conf", pin(BACKEND));
    assert.equal((await container.systemctl("restart", "sensor-agent.service")).code, 0);
    await until("a heartbeat", () => backend.lines.some((line) => line.endsWith("/heartbeat")));
    await container.systemctl("stop", "sensor-agent.service");
  },
});

Deno.test({
  name: "unit runtime: a resolver at 169.254.169.254 (GCE) needs install.sh's resolver drop-in",
  ignore: unavailable !== undefined,
  async fn() {
    await using container = await startSystemdContainer({
      setup: SETUP,
      agentUid: AGENT_UID,
      resolvConf: "nameserver 169.254.169.254\noptions timeout:1 attempts:1\n",
    });
    // Its DNS answers 127.0.0.1 for every name: the backend is found by name, through it only.
    await using _resolver = await startIn(container, "metadata_stand_in.ts", ["169.254.169.254"]);
    await using backend = await startIn(container, "unit_backend.ts", ["127.0.0.1", "8080"]);
    await writeConfig(
      container,
      `BACKEND_URL=http://backend.test:8080\nSENSOR_TOKEN=${newToken("sensor")}\n`,
    );
    await container.writeUnit("sensor-agent.service", UNIT);
    await container.writeUnit(
      "sensor-agent.service.d/test.conf",
      swapExec(
        `-P=agent ${CONTAINER_PROJECT}/main.ts run --config /etc/ravenxcope/sensor-agent.env`,
        "agent",
      ),
    );
    assert.equal((await container.systemctl("start", "sensor-agent.service")).code, 0);
    await until(
      "the agent to lose the backend",
      async () =>
        /WARN backend lost: .*(dns|lookup|resolve)/i.test(await container.output("agent")),
    );
    assert.deepEqual(backend.lines, ["ready"], "the name never resolved");
    // What install.sh writes when /etc/resolv.conf names a resolver the unit's list cuts off.
    await container.writeUnit(
      "sensor-agent.service.d/resolver.conf",
      "[Service]\nIPAddressAllow=169.254.169.254/32\n",
    );
    assert.equal((await container.systemctl("restart", "sensor-agent.service")).code, 0);
    await until("a heartbeat", () => backend.lines.some((line) => line.endsWith("/heartbeat")));
    await container.systemctl("stop", "sensor-agent.service");
  },
});
