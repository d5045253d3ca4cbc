// tests/support/unit_backend.ts: a backend for the agent under systemd (unit_runtime_test.ts), run
// in the container's network namespace: answers enrollment and heartbeats (interval 1 s) and a
// HEAD, and prints each request's method and path, one per line, after a first line "ready".
// Arguments: the address and port to listen on.
const [hostname, port] = Deno.args;
Deno.serve({ hostname, port: Number(port), onListen: () => console.log("ready") }, async (req) => {
  await req.arrayBuffer();
  const path = new URL(req.url).pathname;
  console.log(`${req.method} ${path}`);
  if (req.method === "HEAD") return new Response(null, { status: 204 });
  if (path.endsWith("/enroll")) {
    return Response.json({
      success: true,
      data: {
        sensorId: "unit-test",
        sensorToken: `unit.${crypto.randomUUID()}`,
        heartbeatIntervalSeconds: 1,
      },
    });
  }
  return Response.json({ success: true, data: { heartbeatIntervalSeconds: 1 } });
});
