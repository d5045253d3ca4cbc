// scripts/demo.ts: `deno task demo`. Starts the reference backend on a free loopback port with a
// temporary store, mints an install token, writes an env file like the seed's example, runs the
// real agent (main.ts) against it, shows three heartbeats landing and the fleet, then stops
// everything and removes what it made. Tokens are only ever shown as fingerprints.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnvFile } from "../lib/config/mod.ts";
import { fingerprint, redact, registerSecret } from "../lib/secrets.ts";
import { backendPermissionFlags, launchBackend } from "../reference-backend/launch.ts";
import { randomToken } from "../reference-backend/store/mod.ts";
import { type RelayedChild, startRelayed } from "./child.ts";
import { agentFlags, type PermissionSet, SHIPPED_CONFIG_DIR } from "./grants.ts";

const PROJECT = dirname(dirname(fileURLToPath(import.meta.url)));
/** By name, so that the task's `--allow-run=deno` covers it (Deno.execPath() may be a symlink's target). */
const DENO = "deno";
const HEARTBEAT_INTERVAL_SECONDS = 1;
const BEATS = 3;

const started = performance.now();
const interrupted = new AbortController();
let step = 0;

/** Prints a line with every known token replaced by its fingerprint. */
function say(text: string): void {
  console.log(redact(text));
}

function heading(text: string): void {
  say(`\n${++step}. ${text}`);
}

/** A child's log line, without its timestamp, under the child's name. */
function relay(name: string): (line: string) => void {
  return (line) => say(`   ${name.padStart(7)} | ${line.replace(/^\d{4}-\d\d-\d\dT\S+Z /, "")}`);
}

/** Waits until `ready` returns a value, polling every 100 ms; fails after `seconds`. */
async function until<T>(what: string, seconds: number, ready: () => Promise<T | undefined>) {
  const deadline = performance.now() + seconds * 1000;
  for (;;) {
    interrupted.signal.throwIfAborted();
    const value = await ready();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`no ${what} within ${seconds} s`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** The env file as text, with each token value shown as `sha256:<fingerprint>`. */
async function showEnvFile(path: string): Promise<string> {
  const text = await Deno.readTextFile(path);
  for (const line of parseEnvFile(text, path)) {
    if (line.key?.endsWith("_TOKEN")) registerSecret(line.value);
  }
  return redact(text).trimEnd().split("\n").map((line) => `     ${line}`).join("\n");
}

async function demo(dir: string, children: { stop(): Promise<unknown> }[]): Promise<void> {
  heading("Start the reference backend on a free port of 127.0.0.1, with a temporary store");
  const adminToken = randomToken(); // generated here, handed over by environment, never shown
  registerSecret(adminToken);
  const dataDir = join(dir, "backend");
  say(`   permissions: ${backendPermissionFlags(dataDir, PROJECT).join(" ")}`);
  const backend = await launchBackend({
    dataDir,
    adminToken,
    heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS,
    deno: DENO,
    onLine: relay("backend"),
  });
  children.push(backend);
  say(`   backend pid ${backend.pid} listening on ${backend.url}`);
  const admin = backend.admin;
  // The operator console logs in with a one-time code, so the admin token itself is never shown.
  const { code } = await admin("POST", "/console/api/login-codes");
  say(`   operator console: ${backend.url}/console`);
  say(`   one-time admin login (good once, for 10 minutes): ${code}`);

  heading("Mint an install token (POST /api/install-tokens, as the admin)");
  const minted = await admin("POST", "/api/install-tokens", { ttlSeconds: 600, note: "demo" });
  registerSecret(minted.installToken);
  say(`   install token sha256:${fingerprint(minted.installToken)}, expires ${minted.expiresAt}`);
  say(
    "   installCommand for a real host: it fetches install.sh and the unit from the backend and" +
      " runs install.sh, which asks for the token at a hidden prompt (the command holds none):",
  );
  say(`     ${minted.installCommand}`);
  say(
    "   The demo does not run it (it would install a systemd service); it writes the env file" +
      " itself and runs the agent from this checkout instead.",
  );

  heading("Write the sensor's env file, like the seed's example");
  const configDir = join(dir, "etc");
  const config = join(configDir, "sensor-agent.env");
  await Deno.mkdir(configDir, { mode: 0o700 });
  await Deno.writeTextFile(
    config,
    `SENSOR_ID=demo-sensor\nINSTALL_TOKEN=${minted.installToken}\nBACKEND_URL=${backend.url}\n`,
    { mode: 0o600 },
  );
  say(`   ${config} before enrollment:`);
  say(await showEnvFile(config));

  heading("Run the agent: the real main.ts, in a subprocess");
  const permissions = JSON.parse(await Deno.readTextFile(join(PROJECT, "deno.json")))
    .permissions.agent as PermissionSet;
  const flags = agentFlags(permissions, configDir);
  say(
    `   permissions: deno.json's "agent" set, with ${configDir} in place of ${SHIPPED_CONFIG_DIR}` +
      " (where the demo's env file is) and --allow-net=127.0.0.1 in place of --allow-net" +
      " (the demo talks to loopback only).",
  );
  say(
    "   This host has no /host/proc or /host/sys bind mounts, so the agent says once that it " +
      "reports interfaces without counters: that is the shipped set working as designed.",
  );
  say(`   deno run ${flags.join(" ")} main.ts run --config ${config}`);
  const agent = startAgent(flags, config);
  children.push(agent);
  say(`   agent pid ${agent.pid}`);

  heading("Wait for the enrollment: the env file after");
  await until("saved sensor token", 15, async () => {
    if (agent.exitCode() !== undefined) throw new Error(`the agent exited ${agent.exitCode()}`);
    return /^SENSOR_TOKEN=/m.test(await Deno.readTextFile(config)) ? true : undefined;
  });
  say(
    `   ${config} after enrollment (mode ${
      ((await Deno.stat(config)).mode! & 0o777).toString(8)
    }):`,
  );
  say(await showEnvFile(config));

  heading(`Let ${BEATS} heartbeats land, ${HEARTBEAT_INTERVAL_SECONDS} s apart`);
  let seen = 0;
  await until(`${BEATS} heartbeats`, 15, async () => {
    if (agent.exitCode() !== undefined) throw new Error(`the agent exited ${agent.exitCode()}`);
    const [sensor] = (await admin("GET", "/api/sensors")).sensors;
    for (; sensor && seen < Math.min(sensor.heartbeats, BEATS); seen++) {
      say(`   heartbeat ${seen + 1} landed (last seen ${sensor.lastSeenAt})`);
    }
    return seen >= BEATS ? true : undefined;
  });

  heading("The fleet (GET /api/sensors, as the admin)");
  const { sensors } = await admin("GET", "/api/sensors");
  const columns = [
    "id",
    "label",
    "hostname",
    "sensorIp",
    "enrolledAt",
    "lastSeenAt",
    "online",
    "heartbeats",
  ];
  const rows = [
    columns,
    ...sensors.map((s: Record<string, unknown>) => columns.map((c) => String(s[c]))),
  ];
  const widths = columns.map((_, i) => Math.max(...rows.map((row: string[]) => row[i].length)));
  for (const row of rows) {
    say(`   ${row.map((cell: string, i: number) => cell.padEnd(widths[i])).join("  ").trimEnd()}`);
  }

  await holdForConsole(backend.url);

  heading("Stop the agent (SIGTERM) and the backend (SIGTERM)");
  const agentCode = await agent.stop();
  say(`   agent exited ${agentCode}`);
  const backendCode = (await backend.stop()).code;
  say(`   backend exited ${backendCode}`);
  if (agentCode !== 0 || backendCode !== 0) throw new Error("a process did not stop cleanly");
}

/**
 * At a terminal, lets the agent go on beating until Enter (or Ctrl-C), so that the console can be
 * watched; piped, as in the tests and CI, goes straight on.
 */
async function holdForConsole(url: string): Promise<void> {
  if (!Deno.stdin.isTerminal()) return;
  say(`\n   The agent goes on beating: watch it at ${url}/console. Press Enter to stop the demo.`);
  const stopped = new Promise((done) => interrupted.signal.addEventListener("abort", done));
  await Promise.race([Deno.stdin.read(new Uint8Array(64)), stopped]);
}

/** The agent as a subprocess: its log lines are relayed as they come. */
function startAgent(flags: string[], config: string): RelayedChild {
  const main = join(PROJECT, "main.ts");
  return startRelayed(
    DENO,
    ["run", "-q", "--no-prompt", ...flags, main, "run", "--config", config],
    {
      cwd: PROJECT,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1", LOG_LEVEL: "debug" },
      show: relay("agent"),
    },
  );
}

async function main(): Promise<number> {
  const onSignal = () => interrupted.abort(new Error("interrupted"));
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "ravenxcope-demo-" });
  say(`RavenXcope sensor agent: demo against the reference backend (temporary directory ${dir})`);
  const children: { stop(): Promise<unknown> }[] = [];
  let code = 0;
  try {
    await demo(dir, children);
  } catch (error) {
    say(`\ndemo failed: ${(error as Error).message}`);
    code = 1;
  } finally {
    // Stops whatever is still running (a no-op for what stopped already), then removes it all.
    for (const child of children.reverse()) await child.stop();
    await Deno.remove(dir, { recursive: true });
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  say(
    `\n${code === 0 ? "done" : "failed"}: no process left, ${dir} removed, ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
  return code;
}

if (import.meta.main) Deno.exit(await main());
