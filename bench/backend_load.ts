// bench/backend_load.ts: the reference backend's heartbeat throughput against its runtime's floor,
// in the same run, as `deno task bench` runs it. The floor (bench/backend_floor.ts) is Deno.serve
// with the least a heartbeat needs: a JSON parse and one Deno KV write per request. The backend is
// the real process (reference-backend/launch.ts) under `ulimit -n 1024`, with LOG_LEVEL=info, 500
// enrolled sensors, their real tokens and a host binding each. wrk drives both alike
// (bench/wrk.ts): 500 connections kept alive, each request the next sensor's heartbeat, with its
// Sensor-Host-Binding, as fast as answers come. The two take turns, ROUNDS times each, and the
// medians are reported with the CPU each server spent per request. Loopback only; every run is
// bounded in time.
import { join } from "node:path";
import { launchBackend } from "../reference-backend/launch.ts";
import { rssBytes } from "../tests/support/backendload.ts";
import { SEED_PAYLOAD } from "../tests/support/seed.ts";
import { DENO, median, PROJECT } from "./support.ts";
import { drive, type Run, WRK_SCRIPT } from "./wrk.ts";

export const LOAD_SENSORS = 500;
export const LOAD_CONNECTIONS = 500;
export const LOAD_SECONDS = 10;
export const LOAD_ROUNDS = 3;
export const LOAD_OPEN_FILES = 1024;
// Enrollments before the runs: this many at once.
const ENROLL_AT_ONCE = 50;

/** One server's figures: the median run by requests per second. */
export interface Throughput {
  /** Requests per second of each run, in order. */
  readonly runs: readonly number[];
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time (user + system, every thread) per request. */
  readonly cpuMsPerRequest: number;
  /** Answers other than 2xx, and socket errors, in the median run. */
  readonly failed: number;
  readonly rssBytes: number;
}

export interface BackendLoadResult {
  readonly sensors: number;
  readonly connections: number;
  readonly seconds: number;
  readonly rounds: number;
  readonly openFiles: number;
  readonly floor: Throughput;
  readonly backend: Throughput;
  /** backend.perSecond / floor.perSecond */
  readonly ratio: number;
}

export interface BackendLoadOptions {
  readonly sensors?: number;
  readonly seconds?: number;
  readonly rounds?: number;
}

/** Runs the comparison with its stores and scripts in `workDir`. */
export async function measureBackendLoad(
  workDir: string,
  options: BackendLoadOptions = {},
): Promise<BackendLoadResult> {
  const sensors = options.sensors ?? LOAD_SENSORS;
  const seconds = options.seconds ?? LOAD_SECONDS;
  const rounds = options.rounds ?? LOAD_ROUNDS;
  const dir = await Deno.makeTempDir({ dir: workDir, prefix: "backend-load-" });
  const adminToken = crypto.randomUUID() + crypto.randomUUID();
  const backend = await launchBackend({
    dataDir: join(dir, "store"),
    adminToken,
    openFiles: LOAD_OPEN_FILES, // through sh, which execs deno: `--allow-run=sh` covers it
  });
  let floor: Awaited<ReturnType<typeof startFloor>> | undefined;
  try {
    const tokens: string[] = [];
    while (tokens.length < sensors) {
      const batch = Math.min(ENROLL_AT_ONCE, sensors - tokens.length);
      tokens.push(
        ...await Promise.all(Array.from({ length: batch }, async () => {
          const { installToken } = await backend.admin("POST", "/api/install-tokens", {});
          const response = await fetch(`${backend.url}/api/sensors/enroll`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ ...structuredClone(SEED_PAYLOAD), installToken }),
          });
          if (response.status !== 200) throw new Error(`enrollment failed: ${response.status}`);
          return (await response.json()).data.sensorToken as string;
        })),
      );
    }
    const files = {
      script: join(dir, "beat.lua"),
      tokens: join(dir, "tokens.txt"),
      body: join(dir, "body.json"),
    };
    await Deno.writeTextFile(files.script, WRK_SCRIPT);
    // Each sensor beats from its own host, with its Sensor-Host-Binding, as agents do.
    const binding = () => crypto.getRandomValues(new Uint8Array(32)).toHex();
    await Deno.writeTextFile(
      files.tokens,
      tokens.map((token) => `${token} ${binding()}\n`).join(""),
    );
    await Deno.writeTextFile(files.body, JSON.stringify(beatBody()));
    floor = await startFloor(join(dir, "floor"));
    const runs = { floor: [] as Run[], backend: [] as Run[] };
    for (let round = 0; round < rounds; round++) {
      runs.floor.push(await drive(floor.url, floor.pid, seconds, LOAD_CONNECTIONS, files));
      runs.backend.push(await drive(backend.url, backend.pid, seconds, LOAD_CONNECTIONS, files));
    }
    const result = {
      floor: summary(runs.floor, await rssBytes(floor.pid)),
      backend: summary(runs.backend, await rssBytes(backend.pid)),
    };
    return {
      sensors,
      connections: LOAD_CONNECTIONS,
      seconds,
      rounds,
      openFiles: LOAD_OPEN_FILES,
      ...result,
      ratio: result.backend.perSecond / result.floor.perSecond,
    };
  } finally {
    await floor?.stop();
    await backend.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The floor server under the same `ulimit -n`, with its store in `dir`. */
async function startFloor(dir: string) {
  await Deno.mkdir(dir, { recursive: true });
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -n ${LOAD_OPEN_FILES} && exec "$0" "$@"`,
      DENO,
      "run",
      "-q",
      "--unstable-kv",
      "--allow-net=127.0.0.1",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      join(PROJECT, "bench", "backend_floor.ts"),
      dir,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let url: string | undefined;
  while (url === undefined) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`the floor server exited: ${text}`);
    text += value;
    url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
  }
  const draining = (async () => {
    while (!(await lines.read()).done) { /* keep the pipe empty */ }
  })();
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await Promise.all([child.status, draining]);
    },
  };
}

function summary(runs: readonly Run[], rss: number): Throughput {
  const middle = runs.find((run) => run.perSecond === median(runs.map((r) => r.perSecond))) ??
    runs[0];
  return {
    runs: runs.map((run) => run.perSecond),
    perSecond: middle.perSecond,
    p50Ms: middle.p50Ms,
    p99Ms: middle.p99Ms,
    cpuMsPerRequest: median(runs.map((run) => run.cpuMsPerRequest)),
    failed: middle.failed,
    rssBytes: rss,
  };
}

/** A heartbeat body of docs/protocol.md, with the seed's two interfaces. */
function beatBody(): Record<string, unknown> {
  return {
    agentVersion: "2.0.0",
    sensorLabel: "bench",
    hostname: SEED_PAYLOAD.hostname,
    sensorIp: SEED_PAYLOAD.sensorIp,
    uptimeSeconds: 42,
    interfaces: SEED_PAYLOAD.interfaces,
  };
}

if (import.meta.main) {
  // A look at one comparison without the rest of the bench: deno run -A bench/backend_load.ts [s]
  const workDir = await Deno.makeTempDir({ prefix: "rx-backend-load-" });
  try {
    const seconds = Number(Deno.args[0] ?? LOAD_SECONDS);
    console.log(JSON.stringify(await measureBackendLoad(workDir, { seconds }), null, 2));
  } finally {
    await Deno.remove(workDir, { recursive: true });
  }
}
