// scripts/try.ts: `deno task try`. The agent on this workstation, as a user, against a reference
// backend on loopback: it enrolls and sends real heartbeats with this machine's interfaces, their
// real flags and counters, under deno.json's `try` permission set (the shipped `agent` set with
// every path moved into the scratch directory .try/ of this checkout).
//
// Why .try/ in the checkout and not the system temp dir: a permission set in deno.json names fixed
// paths (relative ones are relative to deno.json), so the scratch directory must have a fixed name;
// one inside the checkout belongs to the user who runs it, where a fixed name under /tmp could be
// taken (or planted) by another user. .gitignore lists it; it is removed at the end.
//
// Why a mount namespace: Deno refuses every path under /proc and /sys, however scoped the grant,
// short of --allow-all. `unshare -rm` (a user and mount namespace, no root needed) bind-mounts the
// machine's /proc and /sys at .try/proc and .try/sys, and its hostname, os-release and machine-id
// at .try/host-*, the way a deployment mounts them at /host/*. Without unshare the agent runs
// anyway and says which facts it could not read.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fingerprint, redact, registerSecret } from "../lib/secrets.ts";
import { launchBackend } from "../reference-backend/launch.ts";
import { randomToken } from "../reference-backend/store/mod.ts";
import { KEPT_VARIABLES, type RelayedChild, startRelayed } from "./child.ts";
import { IDENTITY, MOUNT_SCRIPT, namespaceUnavailable } from "./try_mounts.ts";

const PROJECT = dirname(dirname(fileURLToPath(import.meta.url)));
/** The scratch directory; deno.json's `try` set grants paths below it. */
const SCRATCH = join(PROJECT, ".try");
/** By name, so that the task's `--allow-run=deno` covers it. */
const DENO = "deno";

const USAGE = `Usage: deno task try [--beats N] [--interval SECONDS]

Starts the reference backend on 127.0.0.1, enrolls the real agent (main.ts) with it under
deno.json's "try" permission set, and shows each heartbeat with this machine's interfaces.
  --beats N            stop after N heartbeats (default: run until Ctrl-C)
  --interval SECONDS   the heartbeat interval the backend hands out (default 2)
Everything lives in .try/ in this checkout and is removed at the end.`;

interface Interface {
  name: string;
  isManagement: boolean;
  isLoopback: boolean;
  isVirtual: boolean;
  isWireless: boolean;
  isUp: boolean;
  bytesRecv: number;
  bytesSent: number;
}

const interrupted = new AbortController();

function say(text: string): void {
  console.log(redact(text));
}

/** The agent's or backend's log line, without its timestamp. */
function relay(name: string): (line: string) => void {
  return (line) => say(`  ${name} | ${line.replace(/^\d{4}-\d\d-\d\dT\S+Z /, "")}`);
}

function environment(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  for (const name of KEPT_VARIABLES) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  // DENO_NO_UPDATE_CHECK: the runtime's own upgrade check is no part of trying the agent.
  return { ...env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...extra };
}

/** Starts the agent, in the mount namespace when `namespaced`; its log lines are relayed. */
function startAgent(config: string, namespaced: boolean): RelayedChild {
  const deno = [DENO, "run", "-q", "--no-prompt", "-P=try", join(PROJECT, "main.ts")];
  const args = [...deno, "run", "--config", config];
  // In the namespace, sh exec's deno: SIGTERM to the child's pid reaches the agent.
  const [program, ...rest] = namespaced
    ? ["unshare", "-rm", "sh", "-c", MOUNT_SCRIPT, "sh", SCRATCH, ...args]
    : args;
  return startRelayed(program, rest, {
    cwd: PROJECT,
    env: environment({ LOG_LEVEL: "info" }),
    show: relay("agent  "),
  });
}

/** Prints a sensor's interfaces as the backend last received them. */
function showInterfaces(interfaces: Interface[]): void {
  const yes = (flag: boolean) => flag ? "yes" : "-";
  const rows = [
    ["name", "up", "loopback", "virtual", "wireless", "management", "bytesRecv", "bytesSent"],
    ...interfaces.map((i) => [
      i.name,
      yes(i.isUp),
      yes(i.isLoopback),
      yes(i.isVirtual),
      yes(i.isWireless),
      yes(i.isManagement),
      String(i.bytesRecv),
      String(i.bytesSent),
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) {
    say(`    ${
      row.map((cell, c) => c >= 6 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))
        .join("  ")
    }`);
  }
}

async function tryOut(beats: number, interval: number, stack: AsyncDisposableStack) {
  const adminToken = randomToken(); // handed over by environment, never shown
  registerSecret(adminToken);
  const backend = await launchBackend({
    dataDir: join(SCRATCH, "backend"),
    adminToken,
    heartbeatIntervalSeconds: interval,
    deno: DENO,
    onLine: relay("backend"),
  });
  stack.defer(async () => void await backend.stop());
  say(`reference backend on ${backend.url} (store in .try/backend)`);
  const admin = backend.admin;
  const minted = await admin("POST", "/api/install-tokens", { ttlSeconds: 600, note: "try" });
  registerSecret(minted.installToken);
  say(`install token minted: sha256:${fingerprint(minted.installToken)}`);

  const configDir = join(SCRATCH, "etc");
  const config = join(configDir, "sensor-agent.env");
  await Deno.mkdir(configDir, { mode: 0o700 });
  const lines = [
    `SENSOR_ID=try-${Deno.hostname()}`,
    `INSTALL_TOKEN=${minted.installToken}`,
    `BACKEND_URL=${backend.url}`,
    `HOST_PROC=${join(SCRATCH, "proc")}`,
    `HOST_SYS=${join(SCRATCH, "sys")}`,
    ...IDENTITY.map((name) =>
      `HOST_${name.replace("-", "_").toUpperCase()}_FILE=${join(SCRATCH, `host-${name}`)}`
    ),
  ];
  await Deno.writeTextFile(config, `${lines.join("\n")}\n`, { mode: 0o600 });
  say(`env file ${config} (the install token in it shown as its fingerprint):`);
  for (const line of lines) say(`    ${line}`);

  const unavailable = await namespaceUnavailable(SCRATCH);
  if (unavailable !== undefined) {
    say(`${unavailable}: running without .try/proc and .try/sys, so no flags or counters.`);
  } else {
    say("unshare -rm: this machine's /proc, /sys and identity files bind-mounted into .try/");
  }
  say(`agent: deno run -P=try main.ts run --config ${config}`);
  const agent = startAgent(config, unavailable === undefined);
  stack.defer(async () => void await agent.stop());

  let seen = 0;
  let sensorId: string | undefined;
  for (; beats === 0 || seen < beats;) {
    interrupted.signal.throwIfAborted();
    if (agent.exitCode() !== undefined) throw new Error(`the agent exited ${agent.exitCode()}`);
    sensorId ??= (await admin("GET", "/api/sensors")).sensors[0]?.id;
    const sensor = sensorId === undefined
      ? undefined
      : await admin("GET", `/api/sensors/${sensorId}`);
    if (sensor !== undefined && sensor.heartbeats > seen) {
      seen = sensor.heartbeats;
      say(
        `heartbeat ${seen} from ${sensor.hostname} (${sensor.osInfo}, ${sensor.architecture}),` +
          ` sensorIp ${sensor.sensorIp || "none"}, at ${sensor.lastSeenAt}:`,
      );
      showInterfaces(sensor.interfaces);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  const code = await agent.stop();
  say(`agent stopped (exit ${code})`);
  if (code !== 0) throw new Error(`the agent exited ${code}`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      beats: { type: "string", default: "0" },
      interval: { type: "string", default: "2" },
      help: { type: "boolean", short: "h" },
    },
  });
  const beats = Number(values.beats);
  const interval = Number(values.interval);
  if (
    values.help || !Number.isInteger(beats) || beats < 0 || !Number.isInteger(interval) ||
    interval < 1
  ) {
    console.log(USAGE);
    return values.help ? 0 : 64;
  }
  const onSignal = () => interrupted.abort(new Error("interrupted"));
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  // A previous run that was killed may have left .try/ behind; it holds nothing worth keeping.
  await Deno.remove(SCRATCH, { recursive: true }).catch(() => {});
  await Deno.mkdir(SCRATCH, { mode: 0o700 });
  for (const name of ["proc", "sys"]) await Deno.mkdir(join(SCRATCH, name));
  say(`RavenXcope sensor agent: try-out on this machine, scratch directory ${SCRATCH}`);
  if (beats === 0) say("press Ctrl-C to stop");
  let code = 0;
  {
    await using stack = new AsyncDisposableStack();
    stack.defer(() => Deno.remove(SCRATCH, { recursive: true }));
    try {
      await tryOut(beats, interval, stack);
    } catch (error) {
      if (!interrupted.signal.aborted) {
        say(`try failed: ${(error as Error).message}`);
        code = 1;
      }
    }
  }
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  say(`${code === 0 ? "done" : "failed"}: agent and backend stopped, ${SCRATCH} removed`);
  return code;
}

if (import.meta.main) Deno.exit(await main());
