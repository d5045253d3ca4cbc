// bench/backend_load.ts: the reference backend under load (issue 14), as `deno task bench` runs
// it: the real backend process (reference-backend/launch.ts) under `ulimit -n 1024`, with its
// default limits, and three loads one after the other:
//   - distinct: 1,000 enrolled sensors beat at once, three rounds;
//   - storm: 1,000 heartbeats of one sensor at once;
//   - flood: 5,000 connections that never send a byte, each reopened as soon as the backend
//     closes it, held for 60 s, while a probe enrolls a new sensor and beats every 2 s.
// Reported side by side: answers, heartbeats answered 200 per second, p50/p99 latency, and the
// backend's RSS. Loopback only; every loop is bounded in count and in time.
import { launchBackend } from "../reference-backend/launch.ts";
import {
  alive,
  beatRequest,
  burst,
  idleFlood,
  percentile,
  rssBytes,
  type Shot,
  statusCounts,
} from "../tests/support/backendload.ts";
import { SEED_PAYLOAD } from "../tests/support/seed.ts";

export const LOAD_SENSORS = 1_000;
export const LOAD_STORM = 1_000;
export const LOAD_FLOOD = 5_000;
export const LOAD_FLOOD_SECONDS = 60;
export const LOAD_OPEN_FILES = 1_024;
const DISTINCT_ROUNDS = 3;
const PROBE_EVERY_MS = 2_000;
// The enrollments before the loads: this many at once.
const ENROLL_AT_ONCE = 50;

/** One load's figures. */
export interface LoadPhase {
  readonly requests: number;
  readonly statuses: Record<string, number>;
  /** Heartbeats answered 200, per second of the phase's wall time. */
  readonly okPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The backend's resident set at the end of the phase (at its peak for the flood). */
  readonly rssBytes: number;
}

/** The flood's own figures, besides the probes' LoadPhase. */
export interface FloodFigures {
  readonly connections: number;
  readonly seconds: number;
  /** Connections the flood opened in all (the backend closed and it reopened them). */
  readonly opened: number;
  /** From the flood's connect to the backend's close (backlog wait included): p50, p99, max. */
  readonly closedP50Ms: number;
  readonly closedP99Ms: number;
  readonly closedMaxMs: number;
  /** The backend's own count: connections closed without a byte, and the longest such life. */
  readonly silentClosed: number;
  readonly longestSilentMs: number;
  /** Probes (an enrollment and a heartbeat each) after the flood ended, all 200? */
  readonly afterOk: boolean;
  readonly samePid: boolean;
  /** "cannot accept connections" lines the backend logged (one per burst of accept errors). */
  readonly acceptWarnings: number;
}

export interface BackendLoadResult {
  readonly openFiles: number;
  readonly maxConnections: number;
  readonly headerTimeoutSeconds: number;
  readonly distinct: LoadPhase;
  readonly storm: LoadPhase;
  /** The probes during the flood. */
  readonly flood: LoadPhase & FloodFigures;
}

export interface BackendLoadOptions {
  readonly sensors?: number;
  readonly storm?: number;
  readonly flood?: number;
  readonly floodSeconds?: number;
  readonly openFiles?: number;
  /** More backend variables (e.g. MAX_CONNECTIONS), for trying other limits. */
  readonly env?: Record<string, string>;
}

/** Runs the three loads against one backend with its store in `workDir`. */
export async function measureBackendLoad(
  workDir: string,
  options: BackendLoadOptions = {},
): Promise<BackendLoadResult> {
  const sensors = options.sensors ?? LOAD_SENSORS;
  const openFiles = options.openFiles ?? LOAD_OPEN_FILES;
  const adminToken = crypto.randomUUID() + crypto.randomUUID();
  const dataDir = await Deno.makeTempDir({ dir: workDir, prefix: "backend-load-" });
  const backend = await launchBackend({
    dataDir,
    adminToken,
    openFiles, // through sh, which execs deno: `--allow-run=sh` covers it
    env: options.env,
  });
  try {
    const listening = /maxConnections=(\d+)/.exec(backend.output());
    const header = /headerTimeoutSeconds=(\d+)/.exec(backend.output());
    const admin = { Authorization: `Bearer ${adminToken}` };
    const mint = async () => {
      const response = await patiently(() =>
        fetch(`${backend.url}/api/install-tokens`, { method: "POST", headers: admin, body: "{}" })
      );
      if (response.status !== 201) throw new Error(`minting failed: ${response.status}`);
      return (await response.json()).data.installToken as string;
    };
    const enroll = async () => {
      const installToken = await mint();
      const response = await patiently(() =>
        fetch(`${backend.url}/api/sensors/enroll`, {
          method: "POST",
          body: JSON.stringify({ ...structuredClone(SEED_PAYLOAD), installToken }),
        })
      );
      if (response.status !== 200) throw new Error(`enrollment failed: ${response.status}`);
      return (await response.json()).data.sensorToken as string;
    };
    const tokens: string[] = [];
    while (tokens.length < sensors) {
      const batch = Math.min(ENROLL_AT_ONCE, sensors - tokens.length);
      tokens.push(...await Promise.all(Array.from({ length: batch }, enroll)));
    }
    const body = beatBody();

    const distinctShots: Shot[] = [];
    let start = performance.now();
    for (let round = 0; round < DISTINCT_ROUNDS; round++) {
      distinctShots.push(
        ...await burst(tokens.length, (i) => beatRequest(backend.url, tokens[i], body)),
      );
    }
    const distinct = phase(distinctShots, performance.now() - start, await rssBytes(backend.pid));

    start = performance.now();
    const stormShots = await burst(
      options.storm ?? LOAD_STORM,
      () => beatRequest(backend.url, tokens[0], body),
    );
    const storm = phase(stormShots, performance.now() - start, await rssBytes(backend.pid));

    const seconds = options.floodSeconds ?? LOAD_FLOOD_SECONDS;
    const connections = options.flood ?? LOAD_FLOOD;
    const flood = idleFlood(Number(new URL(backend.url).port), connections, true);
    const probes: Shot[] = [];
    let peakRss = 0;
    start = performance.now();
    const until = start + seconds * 1000;
    try {
      while (performance.now() < until) {
        const [shots] = await Promise.all([
          probe(enroll, (token) => patiently(() => beatRequest(backend.url, token, body))),
          new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS)),
        ]);
        probes.push(...shots);
        peakRss = Math.max(peakRss, await rssBytes(backend.pid));
      }
    } finally {
      await flood.stop();
    }
    const floodMs = performance.now() - start;
    const after = await probe(
      enroll,
      (token) => patiently(() => beatRequest(backend.url, token, body)),
    );
    const closed = flood.closedAfterMs();
    const samePid = await alive(backend.pid);
    const { output } = await backend.stop();
    const stopped = /stopped listening .*silentClosed=(\d+) longestSilentMs=(\d+)/.exec(output);
    return {
      openFiles,
      maxConnections: Number(listening?.[1] ?? NaN),
      headerTimeoutSeconds: Number(header?.[1] ?? NaN),
      distinct,
      storm,
      flood: {
        ...phase(probes, floodMs, peakRss),
        connections,
        seconds,
        opened: flood.opened(),
        closedP50Ms: percentile(closed, 50),
        closedP99Ms: percentile(closed, 99),
        closedMaxMs: closed.reduce((a, b) => Math.max(a, b), 0),
        afterOk: after.every((shot) => shot.status === 200),
        samePid,
        acceptWarnings: (output.match(/cannot accept connections/g) ?? []).length,
        silentClosed: Number(stopped?.[1] ?? NaN),
        longestSilentMs: Number(stopped?.[2] ?? NaN),
      },
    };
  } finally {
    await backend.stop();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

/**
 * `request`, again after a 429 or 503 as the agent does: after Retry-After seconds (at most 10
 * tries). The answer of the last try.
 */
async function patiently(request: () => Promise<Response>): Promise<Response> {
  for (let attempt = 1;; attempt++) {
    const response = await request();
    if (![429, 503].includes(response.status) || attempt === 10) return response;
    await response.body?.cancel();
    const wait = Math.min(60, Number(response.headers.get("retry-after") ?? 1) || 1);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
}

/** An enrollment (mint + enroll, timed together, retries included) and a heartbeat. */
async function probe(
  enroll: () => Promise<string>,
  beat: (token: string) => Promise<Response>,
): Promise<Shot[]> {
  const start = performance.now();
  let token: string;
  try {
    token = await enroll();
  } catch (error) {
    return [{ status: 0, retryAfter: null, ms: performance.now() - start, error: String(error) }];
  }
  const enrolled: Shot = { status: 200, retryAfter: null, ms: performance.now() - start };
  const [beaten] = await burst(1, () => beat(token));
  return [enrolled, beaten];
}

function phase(shots: readonly Shot[], wallMs: number, rss: number): LoadPhase {
  const ms = shots.map((shot) => shot.ms);
  return {
    requests: shots.length,
    statuses: statusCounts(shots),
    okPerSecond: shots.filter((shot) => shot.status === 200).length / (wallMs / 1000),
    p50Ms: percentile(ms, 50),
    p99Ms: percentile(ms, 99),
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
  // A look at one run without the rest of the bench: deno run -A bench/backend_load.ts [seconds]
  const workDir = await Deno.makeTempDir({ prefix: "rx-backend-load-" });
  try {
    const floodSeconds = Number(Deno.args[0] ?? LOAD_FLOOD_SECONDS);
    console.log(JSON.stringify(await measureBackendLoad(workDir, { floodSeconds }), null, 2));
  } finally {
    await Deno.remove(workDir, { recursive: true });
  }
}
