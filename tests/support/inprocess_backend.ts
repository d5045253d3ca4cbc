// tests/support/inprocess_backend.ts: the reference backend's request handler in the test's own
// process, over a real Deno KV store in a temporary directory and real HTTP on 127.0.0.1, with a
// clock the test sets: what a subprocess cannot show without waiting for it (a token 90 days old).
// Its log lines are kept, not printed.
import { setLogOptions } from "../../lib/log.ts";
import { createHandler, type ServerOptions } from "../../reference-backend/api/mod.ts";
import { openStore } from "../../reference-backend/store/mod.ts";
import { usedTokens } from "./agent.ts";
import { type BackendClient, backendClient } from "./refbackend.ts";
import { tempDir } from "./tempdir.ts";

/** A backend in this process; `await using` stops it and removes its store. */
export interface InProcessBackend extends BackendClient {
  /** The backend's clock (ms since the epoch): set it to move the backend's time. */
  now: number;
  /** Everything it logged so far. */
  logged(): string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What the test may set: the policy and the interval (30 s unless given). */
export type InProcessOptions = Partial<
  Pick<ServerOptions, "sensorTokenMaxAgeDays" | "heartbeatIntervalSeconds">
>;

/** Starts the handler on a free port of 127.0.0.1, its clock at the real time. */
export async function startInProcessBackend(
  options: InProcessOptions = {},
): Promise<InProcessBackend> {
  const dir = await tempDir();
  const store = await openStore(dir.path);
  const adminToken = crypto.randomUUID() + crypto.randomUUID();
  usedTokens.add(adminToken);
  const lines: string[] = [];
  setLogOptions({ write: (line) => lines.push(line) });
  const stop = new AbortController();
  let now = Date.now();
  // The handler needs the port the server got: the server waits for it.
  const routes = Promise.withResolvers<ReturnType<typeof createHandler>>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: stop.signal, onListen: () => {} },
    async (request, info) => (await routes.promise)(request, info),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  routes.resolve(createHandler({
    store,
    adminToken,
    heartbeatIntervalSeconds: options.heartbeatIntervalSeconds ?? 30,
    publicUrl: url,
    downloads: new Map(),
    insecureHttp: true,
    sensorTokenMaxAgeDays: options.sensorTokenMaxAgeDays,
    clock: () => now,
  }));
  return {
    ...backendClient(url, adminToken),
    get now() {
      return now;
    },
    set now(ms: number) {
      now = ms;
    },
    logged: () => lines.join("\n"),
    async [Symbol.asyncDispose]() {
      stop.abort();
      await server.finished;
      store.close();
      setLogOptions({ write: (line) => console.error(line) });
      await dir[Symbol.asyncDispose]();
    },
  };
}
