// bench/backend_floor.ts: the floor the reference backend's heartbeat is measured against: what
// Deno.serve does with the least a heartbeat needs, a JSON parse of the body and one Deno KV write
// per request, on 127.0.0.1, into a store of its own. Prints `listening on http://127.0.0.1:<port>`
// like the backend, and stops on SIGTERM. Run by bench/backend_load.ts beside the real backend.
import { join } from "node:path";

if (import.meta.main) {
  const dir = Deno.args[0];
  if (dir === undefined) throw new Error("usage: backend_floor.ts <store directory>");
  const kv = await Deno.openKv(join(dir, "floor.sqlite3"));
  const reply = JSON.stringify({ success: true, data: { heartbeatIntervalSeconds: 30 } });
  const stop = new AbortController();
  Deno.addSignalListener("SIGTERM", () => stop.abort());
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: stop.signal,
    onListen: ({ port }) => console.error(`listening on http://127.0.0.1:${port}`),
  }, async (request) => {
    const body = await request.json();
    const token = request.headers.get("authorization") ?? "";
    await kv.set(["beats", token], body);
    return new Response(reply, { headers: { "content-type": "application/json" } });
  });
  await server.finished;
  kv.close();
}
