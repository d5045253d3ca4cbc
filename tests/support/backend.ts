// tests/support/backend.ts: a real HTTP server on 127.0.0.1 that plays the backend in a test, records
// every request, and answers with whatever the test says.

/** One request as the backend saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Headers;
  readonly body: string;
}

/** A running test backend. `close` is idempotent and waits for the server to finish. */
export interface TestBackend {
  readonly url: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What the test answers: a Response, or anything `Response.json` takes (sent with status 200). */
export type Answer = (request: SeenRequest, n: number) => Response | Promise<Response>;

/** Where and how a test backend listens: TLS with a test certificate, another loopback address. */
export interface BackendOptions {
  readonly hostname?: string; // 127.0.0.1 unless a test needs a second loopback host
  readonly tls?: { readonly cert: string; readonly key: string };
}

/** Starts a backend on a free loopback port. A failed TLS handshake never reaches `answer`. */
export function startBackend(answer: Answer, options: BackendOptions = {}): TestBackend {
  const hostname = options.hostname ?? "127.0.0.1";
  const requests: SeenRequest[] = [];
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname, port: 0, signal: controller.signal, onListen: () => {}, ...options.tls },
    async (req) => {
      const seen: SeenRequest = {
        method: req.method,
        path: new URL(req.url).pathname,
        headers: new Headers(req.headers), // a copy: the live one dies with the request
        body: await req.text(),
      };
      requests.push(seen);
      return await answer(seen, requests.length);
    },
  );
  const close = async () => {
    if (!controller.signal.aborted) controller.abort();
    await server.finished;
  };
  return {
    url: `${options.tls ? "https" : "http"}://${hostname}:${server.addr.port}`,
    port: server.addr.port,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The reply of a backend that enrolls: success, a sensor token and an interval. */
export function enrolled(sensorToken: string, heartbeatIntervalSeconds: unknown = 30): Response {
  return Response.json({
    success: true,
    data: {
      sensorId: crypto.randomUUID(),
      sensorToken,
      backendUrl: "http://10.10.10.70:5009",
      heartbeatIntervalSeconds,
    },
  });
}

/** Resolves with the first request (already seen or coming) that matches, or rejects after `timeoutMs`. */
export async function waitForRequest(
  backend: TestBackend,
  matches: (request: SeenRequest) => boolean,
  timeoutMs = 10_000,
): Promise<SeenRequest> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const found = backend.requests.find(matches);
    if (found) return found;
    if (performance.now() > deadline) throw new Error(`no matching request within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

/** The reply of a backend that accepts a heartbeat, optionally changing the interval. */
export function beatAccepted(heartbeatIntervalSeconds?: number): Response {
  return Response.json({ success: true, data: { heartbeatIntervalSeconds } });
}

/** Routes enrollment and heartbeat requests to separate answers. */
export function routes(enroll: Answer, heartbeat: Answer): Answer {
  let beats = 0;
  return (request, n) =>
    request.path.endsWith("/api/sensors/heartbeat")
      ? heartbeat(request, ++beats)
      : enroll(request, n);
}
