// tests/support/proxy.ts: a minimal forward proxy on loopback, the kind an operator points
// HTTP_PROXY / HTTPS_PROXY at. It handles absolute-form requests (`POST http://host:port/path
// HTTP/1.1`, plain http) by forwarding them to the target, and CONNECT (https) by piping bytes
// both ways, and records every request line. It only ever dials 127.0.0.0/8: anything else is
// refused with 403 and recorded, so a test that leaks traffic fails instead of reaching a real host.

/** One request the proxy received, as its request line said. */
export interface ProxiedRequest {
  readonly method: string;
  /** `host:port` for CONNECT, the absolute URL otherwise. */
  readonly target: string;
  readonly line: string;
  /** False when the target is off loopback: refused with 403 and never dialled. */
  readonly forwarded: boolean;
}

/** A running proxy; `close` (or `await using`) stops it and every connection it holds. */
export interface TestProxy {
  readonly url: string;
  readonly port: number;
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const MAX_HEAD_BYTES = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Starts a proxy on a free port of `hostname` (127.0.0.1 by default). */
export function startProxy(hostname = "127.0.0.1"): TestProxy {
  const listener = Deno.listen({ hostname, port: 0, transport: "tcp" });
  const requests: ProxiedRequest[] = [];
  const open = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  const track = (conn: Deno.Conn) => {
    open.add(conn);
    return conn;
  };
  const forget = (conn: Deno.Conn) => {
    if (open.delete(conn)) {
      try {
        conn.close();
      } catch {
        // already closed by the other side's error
      }
    }
  };
  const accepting = (async () => {
    for (;;) {
      let client: Deno.Conn;
      try {
        client = track(await listener.accept());
      } catch {
        return; // the listener was closed
      }
      const handler = serve(client, requests, track, forget)
        .catch(() => {})
        .finally(() => {
          forget(client);
          handlers.delete(handler);
        });
      handlers.add(handler);
    }
  })();
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      listener.close();
      await accepting;
      for (const conn of [...open]) forget(conn);
      await Promise.all([...handlers]);
    })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    url: `http://${hostname}:${port}`,
    port,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function serve(
  client: Deno.Conn,
  requests: ProxiedRequest[],
  track: (conn: Deno.Conn) => Deno.Conn,
  forget: (conn: Deno.Conn) => void,
): Promise<void> {
  const head = await readHead(client);
  if (head === undefined) return;
  const [line, ...headerLines] = decoder.decode(head.bytes).split("\r\n");
  const [method = "", target = ""] = line.split(" ");
  const destination = method === "CONNECT" ? parseAuthority(target) : parseAbsolute(target);
  const allowed = destination !== undefined && isLoopback(destination.hostname);
  requests.push({ method, target, line, forwarded: allowed });
  if (!allowed) {
    await writeAll(client, encoder.encode("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));
    return;
  }
  let upstream: Deno.Conn;
  try {
    upstream = track(
      await Deno.connect({ hostname: destination.hostname, port: destination.port }),
    );
  } catch {
    await writeAll(client, encoder.encode("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"));
    return;
  }
  try {
    if (method === "CONNECT") {
      await writeAll(client, encoder.encode("HTTP/1.1 200 Connection Established\r\n\r\n"));
      await writeAll(upstream, head.rest);
      // Either side closing ends the tunnel: TLS has already said goodbye by then.
      const pumps = [pump(client, upstream), pump(upstream, client)];
      await Promise.race(pumps);
      forget(client);
      forget(upstream);
      await Promise.all(pumps);
    } else {
      // Origin-form for the target, and one request per connection: the target closes after its
      // reply, which tells us the reply is complete without parsing its framing.
      const headers = headerLines.filter((h) =>
        h !== "" && !/^(connection|proxy-connection|proxy-authorization|keep-alive):/i.test(h)
      );
      const forwarded = [`${method} ${destination.path} ${line.split(" ")[2] ?? "HTTP/1.1"}`]
        .concat(headers, ["Connection: close", "", ""]).join("\r\n");
      await writeAll(upstream, encoder.encode(forwarded));
      await writeAll(upstream, head.rest);
      const body = pump(client, upstream);
      await pump(upstream, client);
      forget(client); // the reply is complete; this also ends `body`
      await body;
    }
  } finally {
    forget(upstream);
  }
}

/** The request head (up to the blank line) and whatever bytes followed it in the same reads. */
async function readHead(
  conn: Deno.Conn,
): Promise<{ bytes: Uint8Array; rest: Uint8Array } | undefined> {
  let buffered = new Uint8Array(0);
  const chunk = new Uint8Array(16 * 1024);
  while (buffered.byteLength < MAX_HEAD_BYTES) {
    const n = await conn.read(chunk);
    if (n === null) return undefined;
    const next = new Uint8Array(buffered.byteLength + n);
    next.set(buffered);
    next.set(chunk.subarray(0, n), buffered.byteLength);
    buffered = next;
    const end = indexOfBlankLine(buffered);
    if (end >= 0) return { bytes: buffered.subarray(0, end), rest: buffered.subarray(end + 4) };
  }
  return undefined;
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.byteLength; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Where a request goes; `path` is empty for CONNECT. */
interface Destination {
  readonly hostname: string;
  readonly port: number;
  readonly path: string;
}

function parseAuthority(target: string): Destination | undefined {
  try {
    const url = new URL(`http://${target}`);
    const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    return { hostname, port: Number(url.port || 443), path: "" };
  } catch {
    return undefined;
  }
}

function parseAbsolute(target: string): Destination | undefined {
  try {
    const url = new URL(target);
    if (url.protocol !== "http:") return undefined;
    return {
      hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: Number(url.port || 80),
      path: url.pathname + url.search,
    };
  } catch {
    return undefined;
  }
}

/** The network rule of these tests: loopback only, whatever a request asks for. */
function isLoopback(hostname: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) || hostname === "::1" ||
    hostname === "localhost";
}

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) return;
      await writeAll(to, buffer.subarray(0, n));
    }
  } catch {
    // one side went away; the caller closes both
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.byteLength;) {
    written += await conn.write(bytes.subarray(written));
  }
}
