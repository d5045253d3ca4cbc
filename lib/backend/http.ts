// lib/backend/http.ts: JSON requests to the backend with the contract's rules (section 1): one
// User-Agent, no redirects, a timeout over the whole exchange, and a cap on what is read of a
// reply.
import { type Deadline, deadline, type Timer } from "../deadline.ts";
import { AGENT_VERSION, architectureName } from "../version.ts";

/** The contract's User-Agent, e.g. `ravenxcope-sensor-agent/2.0.0 (linux; x86_64)`. */
export const USER_AGENT = `ravenxcope-sensor-agent/${AGENT_VERSION} (${Deno.build.os}; ${
  architectureName(Deno.build.arch)
})`;

/**
 * The heartbeat's endpoint (docs/protocol.md): the loop posts to it, and `status --check` sends it
 * an unauthenticated HEAD without loading the loop.
 */
export const HEARTBEAT_PATH = "api/sensors/heartbeat";

/** Replies are read up to this many bytes, no more (docs/protocol.md). */
export const MAX_REPLY_BYTES = 1024 * 1024;

/** How to reach the backend. `client` carries BACKEND_CA_FILE's roots when one is set. */
export interface Backend {
  readonly url: URL;
  readonly timeoutMs: number;
  readonly client?: Deno.HttpClient;
  /** BACKEND_CA_FILE, when `client` trusts it: named in advice about certificates. */
  readonly caFile?: string;
}

/** Why no HTTP answer came back. Callers map these to exit codes or retries. */
export type TransportFailure = "unreachable" | "timeout" | "tls" | "aborted";

/** A request that got no usable HTTP answer; the message names the URL, never a header. */
export class TransportError extends Error {
  constructor(readonly kind: TransportFailure, message: string) {
    super(message);
    this.name = "TransportError";
  }
}

/** What came back: the status, the headers, and the body as text (undefined if over the cap). */
export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text?: string;
}

/** `base` with `path` appended after exactly one `/`, keeping any path prefix of BACKEND_URL. */
export function endpoint(base: URL, path: string): URL {
  let byPath = endpoints.get(base);
  if (byPath === undefined) endpoints.set(base, byPath = new Map());
  let url = byPath.get(path);
  if (url === undefined) byPath.set(path, url = joined(base, path));
  return url;
}

// One URL per backend and path, made once: a heartbeat asks for the same one every beat.
const endpoints = new WeakMap<URL, Map<string, URL>>();

function joined(base: URL, path: string): URL {
  const url = new URL(base.href);
  url.pathname = url.pathname.replace(/\/+$/, "") + "/" + path.replace(/^\/+/, "");
  return url;
}

/**
 * Sends one request and reads the reply (up to MAX_REPLY_BYTES) within `backend.timeoutMs`, body
 * included. A 3xx comes back as a reply like any other status: it is never followed, so a token
 * never reaches another host. Throws TransportError when there is no HTTP answer.
 */
export async function request(
  backend: Backend,
  method: "POST" | "HEAD",
  path: string,
  options: {
    body?: unknown;
    headers?: Record<string, string>;
    signal?: AbortSignal;
    /** How the time limit is kept (deadline.ts); clearableTimer unless given. */
    timer?: Timer;
    /**
     * This request's time limit and stop, from a loop's deadlines (deadline.ts, loopDeadlines,
     * made with `backend.timeoutMs` and `signal`); `timer` is then not used.
     */
    limit?: () => Deadline;
  } = {},
): Promise<Reply> {
  const url = endpoint(backend.url, path);
  using limit = options.limit?.() ?? deadline(backend.timeoutMs, options.signal, options.timer);
  const headers: Record<string, string> = {
    "Accept": "application/json",
    "User-Agent": USER_AGENT,
    ...options.headers,
  };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  try {
    const response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      redirect: "manual",
      signal: limit.signal,
      client: backend.client,
    });
    const text = await readCapped(response);
    return { status: response.status, headers: response.headers, text };
  } catch (error) {
    throw classify(error, url, limit.timedOut(), options.signal);
  }
}

const decoder = new TextDecoder();

async function readCapped(response: Response): Promise<string | undefined> {
  if (response.body === null) return "";
  // A declared length within the cap: read it in one go, without the chunk-by-chunk copies (the
  // heartbeat's reply, every beat). A lying server gets no more than it declared past the cap
  // anyway: Deno fails a body longer than its Content-Length. Not for a compressed body: its
  // length says nothing of what it inflates to (a gzip bomb, tests/agent/hostile_backend_test.ts).
  const declared = Number(response.headers.get("content-length") ?? NaN);
  const encoded = (response.headers.get("content-encoding") ?? "identity") !== "identity";
  if (!encoded && Number.isInteger(declared) && declared >= 0 && declared <= MAX_REPLY_BYTES) {
    return await response.text();
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_REPLY_BYTES) {
        await reader.cancel();
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return decoder.decode(bytes);
}

function classify(
  error: unknown,
  url: URL,
  timedOut: boolean,
  stop?: AbortSignal,
): TransportError {
  if (stop?.aborted) return new TransportError("aborted", `request to ${url} was cancelled`);
  if (timedOut) {
    return new TransportError("timeout", `no complete reply from ${url} in time`);
  }
  // Deno's message repeats the URL; judge only the rest, or a path like /tls would look like TLS.
  const detail = shorten(causeChain(error).replaceAll(url.href, ""));
  if (/certificate|UnknownIssuer|tls|handshake/i.test(detail)) {
    return new TransportError("tls", `TLS with ${url.host} failed: ${detail}`);
  }
  return new TransportError("unreachable", `cannot reach ${url.host}: ${detail}`);
}

function causeChain(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 5; e = (e as Error).cause) {
    parts.push(e instanceof Error ? e.message : String(e));
    if (!(e instanceof Error)) break;
  }
  return parts.join(": ");
}

function shorten(detail: string): string {
  // Deno's messages repeat the URL; the caller's message already names the host.
  return detail.replace(/error sending request for url \([^)]*\):?\s*/gi, "").slice(0, 300);
}

/** An HTTP client trusting `caPem` in addition to the default roots (BACKEND_CA_FILE). */
export function clientTrusting(caPem: string): Deno.HttpClient {
  return Deno.createHttpClient({ caCerts: [caPem] });
}
