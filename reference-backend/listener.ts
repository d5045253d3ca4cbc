// reference-backend/listener.ts: the backend's accept loop on Deno.listen, with a cap on open
// connections. Deno.serve is not used: it keeps a connection that never sends a byte open for good
// (measured: still open after 45 s), has no connection cap, and its accept loop dies on EMFILE,
// rejecting `finished`. Here:
//   - at MAX_CONNECTIONS the oldest idle connection is closed to make room: one that has not sent
//     a byte for half the header deadline, else one kept alive and unused for KEPT_EVICTABLE_MS;
//     with none, new connections wait in the kernel's backlog for a slot; after SHED_AFTER_MS
//     without one, up to SHED_MAX more are accepted, and each request on them is answered 503
//     with Retry-After, then closed (measured: a backlog left full drops handshakes silently, and
//     a client then waits for an answer that never comes). Younger idle connections are spared: a
//     busy
//     client may not have written its request yet, and a client may be reusing a kept-alive one
//     right now (measured: evicting after 1 s cut off up to half of a burst of 1,000 heartbeats
//     past the cap, all sent by one process);
//   - an accept error (EMFILE, ENFILE, ...) is logged once per burst, an idle connection is closed
//     to free a descriptor, and accepting goes on after a pause: it is never fatal.
import { log } from "../lib/log.ts";
import { Connection, type ConnectionLimits, type RequestHandler } from "./connection.ts";
import { failure, HttpError } from "./http.ts";

/** Where to listen, the limits, and when to stop. */
export interface ListenOptions extends ConnectionLimits {
  readonly hostname: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly signal: AbortSignal;
}

/** A listening server; `finished` resolves (never rejects) once it stopped after the signal. */
export interface Listening {
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
}

// After an accept error with no idle connection to close, wait this long before trying again.
const ACCEPT_RETRY_MS = 100;
// Accept errors this far apart belong to separate bursts: each burst is logged once when it starts
// and once when it is over (measured: at the limit, accepts alternate with errors many times a
// second, so "until the next good accept" would log thousands of lines a minute).
const BURST_QUIET_MS = 10_000;
// A kept-alive connection idle for less than this (or half IDLE_TIMEOUT) is not closed for room.
const KEPT_EVICTABLE_MS = 5_000;
const CROWDED_SHARE = 0.75;
// Connections past the cap that are answered 503, at most, and how long their head may take; and
// how long the cap must hold before new connections are answered so rather than left waiting.
const SHED_MAX = 64;
const SHED_AFTER_MS = 500;
const SHED_HEADER_MS = 2_000;

/** The answer to every request on a connection past the cap. */
const shedHandler: RequestHandler = () =>
  Promise.resolve(
    failure(
      new HttpError(503, "the backend is at its connection limit; retry", { "Retry-After": "1" }),
    ),
  );
// On the signal, requests in progress get this long to be answered.
const SHUTDOWN_GRACE_MS = 5_000;

/** Listens on `hostname:port` (throws if it cannot) and serves `handler` until `signal`. */
export function listen(options: ListenOptions, handler: RequestHandler): Listening {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  const addr = listener.addr;
  const origin = `http://${addr.hostname}:${addr.port}`;
  const open = new Set<Connection>();
  // Idle connections and since when, in the order they became idle: the first is the oldest.
  // Fresh ones have not sent a byte yet; kept ones were kept alive after a reply.
  const fresh = new Map<Connection, number>();
  const kept = new Map<Connection, number>();
  let accepted = 0;
  let evicted = 0;
  let silentClosed = 0; // closed without having sent a byte: a deadline or an eviction
  let longestSilentMs = 0;
  const freshAfter = options.headerTimeoutMs / 2;
  const keptAfter = Math.min(KEPT_EVICTABLE_MS, options.idleTimeoutMs / 2);
  // From here on replies end their connection (connection.ts, ConnectionHooks.crowded).
  const crowdedAt = Math.ceil(options.maxConnections * CROWDED_SHARE);
  let freed = Promise.withResolvers<void>();
  const shedding = new Set<Connection>();
  let shed = 0;
  let shedBurst = 0;
  const shedLimits = {
    headerTimeoutMs: Math.min(SHED_HEADER_MS, options.headerTimeoutMs),
    idleTimeoutMs: options.idleTimeoutMs,
  };
  const shedHooks = {
    idle() {},
    crowded: () => true, // one answer, then the connection closes
    closed(connection: Connection) {
      shedding.delete(connection);
      freed.resolve();
    },
  };
  const hooks = {
    idle(connection: Connection, isIdle: boolean, isFresh: boolean) {
      fresh.delete(connection);
      kept.delete(connection);
      if (isIdle) {
        (isFresh ? fresh : kept).set(connection, performance.now());
        freed.resolve(); // at the cap, the accept loop may close it once it is old enough
      }
    },
    crowded: () => open.size >= crowdedAt,
    closed(connection: Connection) {
      if (connection.silent) {
        silentClosed++;
        longestSilentMs = Math.max(longestSilentMs, performance.now() - connection.acceptedAt);
      }
      open.delete(connection);
      fresh.delete(connection);
      kept.delete(connection);
      freed.resolve();
    },
  };
  /**
   * Closes the oldest idle connection if it is old enough. Resolves 0 when it tried, else how long
   * until one may be old enough (undefined: none is idle).
   */
  const evictOldestIdle = async (): Promise<number | undefined> => {
    const now = performance.now();
    const [oldestFresh] = fresh;
    const [oldestKept] = kept;
    const freshWait = oldestFresh && oldestFresh[1] + freshAfter - now;
    const keptWait = oldestKept && oldestKept[1] + keptAfter - now;
    const [pick, wait, idle] = (freshWait ?? Infinity) <= (keptWait ?? Infinity)
      ? [oldestFresh, freshWait, fresh]
      : [oldestKept, keptWait, kept];
    if (pick === undefined || wait === undefined) return undefined;
    if (wait > 0) return wait;
    const [connection, since] = pick;
    // On a busy event loop a request can sit read but unprocessed for a long time, its connection
    // still marked idle: one turn of the loop lets such reads land first (measured: without it, a
    // burst of 1,000 heartbeats past the cap lost hundreds of requests to evictions).
    await delay(0);
    if (idle.get(connection) !== since) return 0;
    evicted++;
    connection.close(); // its hooks.closed removes it from every collection
    return 0;
  };
  const slotFreed = (ms?: number) => {
    freed = Promise.withResolvers<void>();
    const waits = [freed.promise, stopped];
    return Promise.race(ms === undefined ? waits : [...waits, delay(ms)]);
  };
  const stopped = new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  stopped.then(() => listener.close()).catch(() => {});

  const acceptLoop = async () => {
    let failures = 0; // in the current burst of accept errors
    let lastFailure = -Infinity;
    let atCapSince: number | undefined;
    while (!options.signal.aborted) {
      if (open.size >= options.maxConnections) {
        atCapSince ??= performance.now();
        const wait = await evictOldestIdle();
        if (wait === 0) continue;
        const shedIn = atCapSince + SHED_AFTER_MS - performance.now();
        if (shedIn > 0 || shedding.size >= SHED_MAX) {
          await slotFreed(shedIn > 0 ? Math.min(wait ?? shedIn, shedIn) : wait);
          continue;
        }
      } else {
        atCapSince = undefined;
      }
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (options.signal.aborted || error instanceof Deno.errors.BadResource) break;
        if (performance.now() - lastFailure > BURST_QUIET_MS) {
          if (failures > 0) {
            log.info("accept errors stopped for a while", { failedAccepts: failures });
          }
          failures = 0;
          log.warn("cannot accept connections; closing idle ones and retrying", {
            open: open.size,
            why: (error as Error).message.split("\n")[0],
          });
        }
        failures++;
        lastFailure = performance.now();
        const wait = await evictOldestIdle();
        if (wait !== 0) await slotFreed(Math.min(wait ?? ACCEPT_RETRY_MS, ACCEPT_RETRY_MS));
        continue;
      }
      if (failures > 0 && performance.now() - lastFailure > BURST_QUIET_MS) {
        log.info("accepting connections again", { failedAccepts: failures, open: open.size });
        failures = 0;
      }
      try {
        conn.setNoDelay(true);
      } catch {
        // already reset by the client: the connection's first read ends it
      }
      accepted++;
      if (open.size < options.maxConnections) {
        if (shedBurst > 0) {
          log.info("serving new connections again", { answered503: shedBurst });
          shedBurst = 0;
        }
        open.add(new Connection(conn, handler, options, origin, hooks));
      } else {
        if (shedBurst++ === 0) {
          log.warn("at MAX_CONNECTIONS: answering new connections 503 with Retry-After", {
            open: open.size,
          });
        }
        shed++;
        shedding.add(new Connection(conn, shedHandler, shedLimits, origin, shedHooks));
      }
    }
  };

  const finished = (async () => {
    try {
      await acceptLoop();
    } catch (error) {
      log.error(`accept loop failed: ${String(error)}`); // a bug: stop serving, but exit cleanly
    }
    await stopped;
    log.info("stopped listening", {
      accepted,
      evicted,
      answered503: shed,
      silentClosed,
      longestSilentMs: Math.round(longestSilentMs),
      open: open.size,
    });
    for (const connection of [...open, ...shedding]) connection.drain();
    const all = Promise.all([...open, ...shedding].map((connection) => connection.done));
    await Promise.race([all, delay(SHUTDOWN_GRACE_MS)]);
    for (const connection of [...open, ...shedding]) connection.close();
  })();
  return { addr, finished };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
