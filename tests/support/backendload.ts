// tests/support/backendload.ts: load against a running reference backend, for the load test and
// `deno task bench` (bench/backend_load.ts): bursts of concurrent requests with their statuses and
// latencies, sensors enrolled in bulk, and a flood of connections that never send a byte.
// Loopback only, and every loop is bounded in count and in time.

/** One answer of a burst: its status (0: no answer), Retry-After, and how long it took. */
export interface Shot {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly ms: number;
  /** Why there was no answer (status 0). */
  readonly error?: string;
}

/** Sends `count` requests at once, made by `request(i)`; resolves when all are answered. */
export async function burst(
  count: number,
  request: (i: number) => Promise<Response>,
): Promise<Shot[]> {
  return await Promise.all(Array.from({ length: count }, async (_, i) => {
    const start = performance.now();
    try {
      const response = await request(i);
      await response.body?.cancel();
      return {
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        ms: performance.now() - start,
      };
    } catch (error) {
      return { status: 0, retryAfter: null, ms: performance.now() - start, error: String(error) };
    }
  }));
}

/** How many shots got each status, e.g. { "200": 990, "429": 10 }. */
export function statusCounts(shots: readonly Shot[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const shot of shots) counts[shot.status] = (counts[shot.status] ?? 0) + 1;
  return counts;
}

/** The `p`-th percentile (0-100) of `values`, nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))];
}

/** A heartbeat request of the contract's shape, for `burst`. */
export function beatRequest(url: string, sensorToken: string, body: unknown): Promise<Response> {
  return fetch(`${url}/api/sensors/heartbeat`, {
    method: "POST",
    headers: { Authorization: `Bearer ${sensorToken}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Silent connections held against a server; see `idleFlood`. */
export interface IdleFlood {
  /** Connections opened so far (reopened ones included). */
  opened(): number;
  /** Milliseconds from connect to the server's close, for each connection the server closed. */
  closedAfterMs(): readonly number[];
  /** Connect failures (refused, timed out). */
  failures(): number;
  /** Closes what is still open and stops reopening; resolves once every read has ended. */
  stop(): Promise<void>;
}

/**
 * Opens `count` TCP connections to 127.0.0.1:`port` that never send a byte (slowloris), and notes
 * when the server closes each. With `reopen`, each closed one is replaced, so `count` stay open
 * until `stop`. At most `connectTimeoutMs` per connect.
 */
export function idleFlood(
  port: number,
  count: number,
  reopen = false,
  connectTimeoutMs = 5_000,
): IdleFlood {
  let stopped = false;
  let opened = 0;
  let failures = 0;
  const closed: number[] = [];
  const open = new Set<Deno.TcpConn>();
  const lane = async () => {
    do {
      const start = performance.now();
      let conn: Deno.TcpConn;
      try {
        conn = await Deno.connect({
          hostname: "127.0.0.1",
          port,
          signal: AbortSignal.timeout(connectTimeoutMs),
        });
      } catch {
        failures++;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      opened++;
      open.add(conn);
      try {
        // The server closes it (EOF, or a reset); our own stop() ends the read with an error.
        await conn.read(new Uint8Array(1024));
        if (!stopped) closed.push(performance.now() - start);
      } catch {
        if (!stopped) closed.push(performance.now() - start);
      }
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // closed by stop()
      }
    } while (reopen && !stopped);
  };
  const lanes = Array.from({ length: count }, lane);
  return {
    opened: () => opened,
    closedAfterMs: () => closed,
    failures: () => failures,
    async stop() {
      stopped = true;
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      await Promise.all(lanes);
    },
  };
}

/** `ps`'s resident set size of process `pid`, in bytes. */
export async function rssBytes(pid: number): Promise<number> {
  const output = await new Deno.Command("sh", {
    args: ["-c", `ps -o rss= -p ${Math.floor(pid)}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  return Number(new TextDecoder().decode(output.stdout).trim()) * 1024;
}

/** True while process `pid` exists. */
export async function alive(pid: number): Promise<boolean> {
  const output = await new Deno.Command("sh", {
    args: ["-c", `kill -0 ${Math.floor(pid)}`],
    stdout: "null",
    stderr: "null",
  }).output();
  return output.success;
}
