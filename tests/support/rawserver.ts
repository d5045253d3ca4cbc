// tests/support/rawserver.ts: a hostile "backend" at the TCP level. It accepts connections on a
// loopback address and hands each one to a script that writes whatever bytes it likes, or nothing:
// no status line at all, a body that trickles forever, 20 MB, a body that never ends. No HTTP
// library stands between the script and the agent, so nothing is tidied up on the way. It counts
// connections and bytes received, so a redirect target can prove that it received nothing at all.

/** One accepted connection, as a script sees it. */
export interface RawConnection {
  /** Reads the request head and its Content-Length body; "" when the peer sent nothing. */
  readRequest(): Promise<string>;
  /** Writes all of `data`; rejects once the peer has gone. */
  write(data: string | Uint8Array): Promise<void>;
  /** Resolves after `ms`, or at once when the server is closing. */
  sleep(ms: number): Promise<void>;
  /** True once the server is closing: scripts that loop forever stop on it. */
  readonly closing: boolean;
}

/** What a script does with a connection. Its errors (the peer hung up) are ignored. */
export type RawScript = (conn: RawConnection) => Promise<void>;

/** A running raw server; `close` (or `await using`) ends every connection and script. */
export interface RawServer {
  readonly hostname: string;
  readonly port: number;
  /** `http://host:port` (or another scheme, for an https URL that meets no TLS at all). */
  url(scheme?: string): string;
  /** Connections accepted so far. */
  connections(): number;
  /** Bytes received so far, over all connections. */
  bytesReceived(): number;
  /** Bytes the scripts managed to write so far. */
  bytesSent(): number;
  /** The requests read by `readRequest`, as text (they hold tokens: never print them). */
  readonly requests: string[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEAD_END = "\r\n\r\n";
const MAX_REQUEST_BYTES = 256 * 1024;

/** Starts a raw server on a free port of `hostname` (127.0.0.1 unless said otherwise). */
export function startRawServer(script: RawScript, hostname = "127.0.0.1"): RawServer {
  const listener = Deno.listen({ hostname, port: 0, transport: "tcp" });
  const open = new Set<Deno.Conn>();
  const scripts = new Set<Promise<void>>();
  const sleepers = new Set<() => void>(); // pending sleeps, woken when the server closes
  const requests: string[] = [];
  let accepted = 0;
  let received = 0;
  let sent = 0;
  let closing = false;

  const hangUp = (conn: Deno.Conn) => {
    if (!open.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // already gone
    }
  };

  const connection = (conn: Deno.Conn): RawConnection => ({
    async readRequest() {
      const buffer = new Uint8Array(64 * 1024);
      let text = "";
      let expected = Infinity;
      while (text.length < expected && text.length < MAX_REQUEST_BYTES) {
        const n = await conn.read(buffer);
        if (n === null) break;
        received += n;
        text += decoder.decode(buffer.subarray(0, n), { stream: true });
        const headEnd = text.indexOf(HEAD_END);
        if (headEnd >= 0 && expected === Infinity) {
          const length = /^content-length:\s*(\d+)/im.exec(text.slice(0, headEnd));
          expected = headEnd + HEAD_END.length + Number(length?.[1] ?? 0);
        }
      }
      requests.push(text);
      return text;
    },
    async write(data) {
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      for (let offset = 0; offset < bytes.length;) {
        const n = await conn.write(bytes.subarray(offset));
        offset += n;
        sent += n;
      }
    },
    sleep(ms) {
      if (closing) return Promise.resolve();
      return new Promise((resolve) => {
        const wake = () => {
          clearTimeout(id);
          sleepers.delete(wake);
          resolve();
        };
        const id = setTimeout(wake, ms);
        sleepers.add(wake);
      });
    },
    get closing() {
      return closing;
    },
  });

  const accepting = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return; // the listener was closed
      }
      accepted++;
      open.add(conn);
      const run = script(connection(conn))
        .catch(() => {}) // the agent hung up: that is what hostile tests expect
        .finally(() => {
          hangUp(conn);
          scripts.delete(run);
        });
      scripts.add(run);
    }
  })();

  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      closing = true;
      for (const wake of [...sleepers]) wake();
      listener.close();
      await accepting;
      for (const conn of [...open]) hangUp(conn);
      await Promise.all([...scripts]);
    })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    hostname,
    port,
    url: (scheme = "http") => `${scheme}://${hostname}:${port}`,
    connections: () => accepted,
    bytesReceived: () => received,
    bytesSent: () => sent,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A status line and headers, ending with the blank line; `Connection: close` is always added. */
export function head(status: string, headers: Record<string, string | number> = {}): string {
  const lines = [`HTTP/1.1 ${status}`, "Connection: close"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return lines.join("\r\n") + HEAD_END;
}
