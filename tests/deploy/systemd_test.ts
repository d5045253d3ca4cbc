// The systemd unit deploy/sensor-agent.service: hardened enough (systemd-analyze security), valid
// (systemd-analyze verify), and in step with the exit codes of docs/configuration.md, Exit codes
// and the `agent` permission set in deno.json. systemd is not running here, so nothing is started:
// the security check reads the file offline, and verify checks a copy whose ExecStart names a
// binary that exists (/bin/true), because /usr/local/bin/sensor-agent is only built by `deno
// compile`. The two systemd-analyze tests print `skipped: <reason>` where systemd-analyze is
// missing or too old.
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadAddressPin } from "../../lib/backend/mod.ts";
import { ExitCode } from "../../lib/errors.ts";
import { PROJECT } from "../support/agent.ts";
import { tempDir } from "../support/tempdir.ts";

const { parseIp, parsePrefixes, prefixContains } = await loadAddressPin();

const UNIT_PATH = join(PROJECT, "deploy", "sensor-agent.service");
const DENO_JSON = join(PROJECT, "deno.json");
/**
 * The unit alone; with install.sh's backend-address pin it is 1.0 (install_pin_test.ts). What
 * holds it there: docs/systemd.md, Remaining exposures.
 */
const MAX_EXPOSURE = 1.1;
const REAL_EXEC = "/usr/local/bin/sensor-agent";

/** The assignments of a unit file by section, in file order (a key may repeat). */
type UnitFile = Map<string, [key: string, value: string][]>;

/** Parses unit-file text the way systemd reads it: sections, `Key=value`, comments, continuations. */
function parseUnit(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section = "";
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = pending + raw.trim();
    pending = "";
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.endsWith("\\")) {
      pending = line.slice(0, -1) + " ";
      continue;
    }
    if (line.startsWith("[") && line.endsWith("]")) {
      section = line.slice(1, -1);
      if (!unit.has(section)) unit.set(section, []);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) throw new Error(`not an assignment in [${section}]: ${line}`);
    unit.get(section)?.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** Every value assigned to `key` in `section`, in order. */
function values(unit: UnitFile, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** The single value of `key` in `section`; fails when it is missing or set twice. */
function single(unit: UnitFile, section: string, key: string): string {
  const found = values(unit, section, key);
  assert.equal(found.length, 1, `[${section}] ${key}= is set ${found.length} times`);
  return found[0];
}

/** A list setting whose lines append and whose empty assignment resets, as BindReadOnlyPaths=. */
function listSetting(unit: UnitFile, section: string, key: string): string[] {
  let list: string[] = [];
  for (const value of values(unit, section, key)) {
    list = value === "" ? [] : [...list, ...value.split(/\s+/)];
  }
  return list;
}

/** BindReadOnlyPaths= entries as source, destination and whether a missing source is skipped. */
function bindMounts(unit: UnitFile): { source: string; target: string; optional: boolean }[] {
  return listSetting(unit, "Service", "BindReadOnlyPaths").map((entry) => {
    const optional = entry.startsWith("-");
    const [source, target = source] = (optional ? entry.slice(1) : entry).split(":");
    return { source, target, optional };
  });
}

async function readUnit(): Promise<UnitFile> {
  return parseUnit(await Deno.readTextFile(UNIT_PATH));
}

/** Why systemd-analyze cannot check the unit here, or undefined when it can (v250+: --offline). */
async function systemdAnalyzeMissing(): Promise<string | undefined> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("systemd-analyze", { args: ["--version"] }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "systemd-analyze is not installed";
    throw error;
  }
  const version = Number(/^systemd (\d+)/.exec(new TextDecoder().decode(output.stdout))?.[1]);
  if (!(version >= 250)) return "systemd-analyze is older than 250 (no --offline)";
  return undefined;
}

/** Runs systemd-analyze without colours or pager; returns exit code and both outputs. */
async function systemdAnalyze(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const output = await new Deno.Command("systemd-analyze", {
    args: ["--no-pager", ...args],
    env: { SYSTEMD_COLORS: "0", NO_COLOR: "1", SYSTEMD_LOG_COLOR: "0" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    out: decoder.decode(output.stdout),
    err: decoder.decode(output.stderr),
  };
}

const analyzeMissing = await systemdAnalyzeMissing();

Deno.test("unit: systemd-analyze security scores it 1.1 or lower", async () => {
  if (analyzeMissing !== undefined) {
    console.log(`skipped: ${analyzeMissing}`);
    return;
  }
  // --threshold is on the 0-100 scale of the internal score: 11 means an exposure of 1.1.
  const result = await systemdAnalyze([
    "security",
    "--offline=yes",
    `--threshold=${MAX_EXPOSURE * 10}`,
    UNIT_PATH,
  ]);
  const match = /Overall exposure level for sensor-agent\.service: (\d+(?:\.\d+)?)/.exec(
    result.out,
  );
  assert.ok(match, `no overall exposure level in:\n${result.out}${result.err}`);
  const exposure = Number(match[1]);
  console.log(`systemd-analyze security --offline=yes: exposure ${exposure}`);
  assert.ok(exposure <= MAX_EXPOSURE, `exposure ${exposure} is above ${MAX_EXPOSURE}`);
  assert.equal(result.code, 0, result.err);
});

Deno.test("unit: systemd-analyze verify prints nothing for it (ExecStart pointed at /bin/true)", async () => {
  if (analyzeMissing !== undefined) {
    console.log(`skipped: ${analyzeMissing}`);
    return;
  }
  // verify fails on an ExecStart binary that does not exist; the real one is built by
  // `deno compile`, so the copy names a binary that is there. Everything else is the shipped text.
  let stand_in = "/bin/true";
  try {
    await Deno.stat(stand_in);
  } catch {
    stand_in = Deno.execPath();
  }
  const text = await Deno.readTextFile(UNIT_PATH);
  assert.ok(text.includes(`\nExecStart=${REAL_EXEC} `), "ExecStart no longer names the binary");
  await using dir = await tempDir();
  const copy = dir.join("sensor-agent.service");
  await Deno.writeTextFile(
    copy,
    text.replace(`\nExecStart=${REAL_EXEC} `, `\nExecStart=${stand_in} `),
  );
  const result = await systemdAnalyze(["verify", "--man=no", copy]);
  assert.equal(result.out + result.err, "", "systemd-analyze verify printed something");
  assert.equal(result.code, 0);
});

Deno.test("unit: RestartPreventExitStatus= holds exactly the exit codes a restart cannot fix", async () => {
  const unit = await readUnit();
  const codes = single(unit, "Service", "RestartPreventExitStatus").split(/\s+/).map(Number);
  // 69 (backend unreachable) and 76 (bad enrollment reply) must stay restartable: the backend may
  // come back. (Checked first: the deepEqual below narrows the type of `codes`.)
  for (const code of [ExitCode.unavailable, ExitCode.protocol]) {
    assert.ok(!codes.includes(code), `${code} must be retried`);
  }
  assert.deepEqual(codes, [64, 73, 77, 78]);
  // docs/configuration.md, Exit codes as lib/errors.ts spells it: usage, config not writable, token
  // rejected, configuration error.
  assert.deepEqual(codes, [
    ExitCode.usage,
    ExitCode.cantCreate,
    ExitCode.noPermission,
    ExitCode.config,
  ]);
});

Deno.test("unit: BindReadOnlyPaths= mounts exactly the host roots the agent permission set reads", async () => {
  const unit = await readUnit();
  const agent = JSON.parse(await Deno.readTextFile(DENO_JSON)).permissions.agent;
  const reads: string[] = agent.read;
  const writes: string[] = agent.write;
  const mounts = bindMounts(unit);
  const hostRoots = reads.filter((path) => path.startsWith("/host/") || path.startsWith("/host-"));
  // The set grants single files under the mounts (procfs's and sysfs's magic links reach the
  // whole system from a directory): each grant lies in a mount, and each mount holds a grant.
  const inside = (path: string, target: string) => path === target || path.startsWith(`${target}/`);
  for (const path of hostRoots) {
    assert.ok(mounts.some((mount) => inside(path, mount.target)), `${path} is not mounted`);
  }
  for (const { target } of mounts) {
    assert.ok(hostRoots.some((path) => inside(path, target)), `${target} is mounted, not read`);
  }
  assert.deepEqual(
    hostRoots.filter((path) => path.startsWith("/host/")),
    ["/host/proc/net/dev", "/host/proc/net/route", "/host/sys/class/net"],
  );
  assert.deepEqual(
    mounts.map(({ source, target, optional }) => `${optional ? "-" : ""}${source}:${target}`),
    [
      "/proc:/host/proc",
      "/sys:/host/sys",
      "-/etc/hostname:/host-hostname",
      "-/etc/os-release:/host-os-release",
      "-/etc/machine-id:/host-machine-id",
    ],
  );
  // The rest of the read list is used as it is: the config directory (the only writable path,
  // which is also the whole write list), the identity files under /etc, a container's secret. None
  // may lie where the unit shows an empty or private tree instead of the host's files.
  assert.deepEqual(listSetting(unit, "Service", "ReadWritePaths"), writes);
  assert.equal(single(unit, "Service", "ProtectSystem"), "strict");
  const hidden = ["/home", "/root", "/run/user", "/tmp", "/var/tmp", "/dev", "/proc", "/sys"];
  for (const path of reads.filter((path) => !hostRoots.includes(path))) {
    const under = hidden.find((dir) => path === dir || path.startsWith(`${dir}/`));
    assert.equal(under, undefined, `${path} is hidden by the unit (${under})`);
  }
});

Deno.test("unit: restarts on failure every 10 s, without a start limit that gives up", async () => {
  const unit = await readUnit();
  assert.equal(single(unit, "Service", "Restart"), "on-failure");
  assert.equal(single(unit, "Service", "RestartSec"), "10s");
  assert.equal(single(unit, "Unit", "StartLimitIntervalSec"), "0");
  // systemd 252 ignores these (254+), so they would only pretend to do something here.
  for (const key of ["RestartSteps", "RestartMaxDelaySec"]) {
    assert.deepEqual(values(unit, "Service", key), [], `${key}= needs systemd 254`);
  }
});

Deno.test("unit: the fixed decisions hold (binary, user, config directory, no private network)", async () => {
  const unit = await readUnit();
  assert.equal(
    single(unit, "Service", "ExecStart"),
    `${REAL_EXEC} run --config /etc/ravenxcope/sensor-agent.env`,
  );
  assert.equal(single(unit, "Service", "User"), "ravenxcope");
  assert.equal(single(unit, "Service", "Group"), "ravenxcope");
  assert.deepEqual(values(unit, "Service", "DynamicUser"), []);
  assert.equal(single(unit, "Service", "ConfigurationDirectory"), "ravenxcope");
  assert.equal(single(unit, "Service", "ConfigurationDirectoryMode"), "0700");
  assert.equal(single(unit, "Service", "UMask"), "0077");
  assert.equal(single(unit, "Service", "CapabilityBoundingSet"), "");
  assert.equal(single(unit, "Service", "AmbientCapabilities"), "");
  // The agent reports the host's interfaces and needs the host's network.
  assert.deepEqual(values(unit, "Service", "PrivateNetwork"), []);
  // V8 needs writable-then-executable memory for its JIT.
  assert.deepEqual(values(unit, "Service", "MemoryDenyWriteExecute"), []);
});

Deno.test("unit: the system call filter keeps @pkey, which V8 calls at start", async () => {
  // V8 calls pkey_alloc while it starts; @system-service lacks it, and a call outside the allow
  // list kills the process with SIGSYS unless SystemCallErrorNumber= says otherwise.
  const unit = await readUnit();
  const filters = values(unit, "Service", "SystemCallFilter");
  assert.ok(!filters[0].startsWith("~"), "the first SystemCallFilter= must be the allow list");
  assert.ok(filters[0].split(/\s+/).includes("@pkey"), "@pkey left the allow list");
  assert.equal(single(unit, "Service", "SystemCallErrorNumber"), "EPERM");
});

Deno.test("unit and compose: no core dumps, which would hold the tokens", async () => {
  const unit = await readUnit();
  assert.equal(single(unit, "Service", "LimitCORE"), "0");
  const compose = await Deno.readTextFile(join(PROJECT, "deploy", "compose.yaml"));
  assert.match(compose, /\n {4}ulimits:\n {6}core: 0\n/);
});

Deno.test("unit: the kernel refuses what the agent never does: binding, link-local and metadata", async () => {
  const unit = await readUnit();
  assert.equal(single(unit, "Service", "SocketBindDeny"), "any");
  const denied = listSetting(unit, "Service", "IPAddressDeny").map((word) => {
    const prefixes = parsePrefixes(word);
    assert.ok(prefixes, `IPAddressDeny= word ${word} does not parse`);
    return prefixes;
  }).flat();
  const covered = (address: string) =>
    denied.some((prefix) => prefixContains(prefix, parseIp(address)!));
  for (const address of ["169.254.169.254", "169.254.170.2", "fe80::1", "fd00:ec2::254"]) {
    assert.ok(covered(address), `${address} is not denied`);
  }
  // Every address and prefix the `agent` permission set denies, the kernel denies too (names and
  // the wildcard listen addresses aside: SocketBindDeny= covers listening).
  const set = JSON.parse(await Deno.readTextFile(DENO_JSON)).permissions.agent;
  for (const entry of set.net.deny as string[]) {
    if (/^[a-z]/i.test(entry) || entry === "0.0.0.0" || entry === "[::]") continue;
    const [wanted] = parsePrefixes(entry.replace(/^\[(.*)\]$/, "$1"))!;
    assert.ok(
      denied.some((prefix) => prefix.bits <= wanted.bits && prefixContains(prefix, wanted.bytes)),
      `${entry} is denied by the set, not by the unit`,
    );
  }
});

Deno.test("unit: memory and tasks are capped, and the tokens never reach swap", async () => {
  const unit = await readUnit();
  const mib = (value: string) => Number(/^(\d+)M$/.exec(value)?.[1]);
  // Measured peak 63 MiB resident, 7 threads; Deno's bound about 52 threads on a large host.
  assert.ok(mib(single(unit, "Service", "MemoryMax")) >= 4 * 63, "four times the measured peak");
  assert.equal(single(unit, "Service", "MemorySwapMax"), "0");
  assert.ok(Number(single(unit, "Service", "TasksMax")) >= 2 * 52, "twice Deno's thread bound");
  // The container gets the same limits; memswap_limit equal to mem_limit means no swap.
  const compose = await Deno.readTextFile(join(PROJECT, "deploy", "compose.yaml"));
  const memory = single(unit, "Service", "MemoryMax").toLowerCase();
  assert.match(compose, new RegExp(`\n {4}mem_limit: ${memory}\n {4}memswap_limit: ${memory}\n`));
  assert.match(compose, new RegExp(`\n {4}pids_limit: ${single(unit, "Service", "TasksMax")}\n`));
});
