// reference-backend/http/serve.ts: Deno.serve on 127.0.0.1, kept serving. The runtime's HTTP server
// parses requests; what it lacks for the open internet (header and body deadlines, connection and
// rate limits, TLS) is the reverse proxy's job (deploy/backend/). One gap stays ours: when accept
// fails (EMFILE at the open-file limit), Deno.serve stops accepting for good and rejects
// `finished`, and with nobody handling that rejection the process dies. Here the failure is logged
// once per burst and the same port is served again a moment later, by the same process.
import { log } from "../../lib/log.ts";

/** Where and until when to serve. */
export interface ServeOptions {
  readonly port: number;
  readonly signal: AbortSignal;
  /** The handler for internal errors (a bug): its reply. */
  readonly onError: (error: unknown) => Response;
}

/** A running server: its address, and a promise that resolves once the signal stopped it. */
export interface Serving {
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
}

const HOSTNAME = "127.0.0.1";
const RESTART_MS = 200;
// Failures closer together than this are one burst: logged once.
const BURST_QUIET_MS = 10_000;

/** Serves `handler` until `options.signal` aborts; throws when the port cannot be had at first. */
export function serve(
  options: ServeOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Serving {
  const start = (port: number) =>
    Deno.serve({
      hostname: HOSTNAME,
      port,
      signal: options.signal,
      onError: options.onError,
      onListen: () => {}, // the caller says where it listens, in its own words
    }, handler);
  const first = start(options.port);
  const addr = first.addr;
  const finished = (async () => {
    let server = first;
    let restarts = 0;
    let lastFailure = -Infinity;
    for (;;) {
      try {
        await server.finished;
        if (restarts > 0) log.info("stopped serving", { acceptRestarts: restarts });
        return;
      } catch (error) {
        if (options.signal.aborted) return;
        if (performance.now() - lastFailure > BURST_QUIET_MS) {
          log.warn("the server stopped accepting connections; serving the same port again", {
            why: String(error).split("\n")[0],
            retryMs: RESTART_MS,
          });
        }
        lastFailure = performance.now();
        restarts++;
      }
      server = await restarted(() => start(addr.port), options.signal) ?? server;
      if (options.signal.aborted) return;
    }
  })();
  return { addr, finished };
}

/** `start()` once it succeeds (it fails while descriptors are short), or undefined once stopped. */
async function restarted(
  start: () => Deno.HttpServer<Deno.NetAddr>,
  signal: AbortSignal,
): Promise<Deno.HttpServer<Deno.NetAddr> | undefined> {
  while (!signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, RESTART_MS));
    if (signal.aborted) return undefined;
    try {
      return start();
    } catch {
      // still no descriptor for the listening socket: try again
    }
  }
  return undefined;
}
