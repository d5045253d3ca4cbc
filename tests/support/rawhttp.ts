// tests/support/rawhttp.ts: a request as raw bytes on a connection of its own, for what no HTTP
// client would send (smuggling shapes, path tricks, a forged Host): what came back before the
// server closed the connection, or before `ms` passed.

/** Writes `raw` on `conn`, reads until the server closes or `ms` passes, then closes it. */
export async function rawExchange(conn: Deno.Conn, raw: string, ms = 2_000): Promise<string> {
  try {
    await conn.write(new TextEncoder().encode(raw));
    let text = "";
    const buffer = new Uint8Array(65536);
    const timer = setTimeout(() => conn.close(), ms);
    try {
      for (let n; (n = await conn.read(buffer).catch(() => null)) !== null;) {
        text += new TextDecoder().decode(buffer.subarray(0, n));
      }
    } finally {
      clearTimeout(timer);
    }
    return text;
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the timer or the server
    }
  }
}
