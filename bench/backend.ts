// bench/backend.ts: the backend the benchmarks talk to, as its own process so that its work does
// not land on the measured process's event loop or CPU clock. Serves 127.0.0.1 on a free port,
// prints `port <n>` once listening, enrolls every request with the same token, accepts every
// heartbeat, and stops on SIGTERM, when stdin closes, or after `--lifetime` seconds at most.
// For the bench's checks it keeps the last enrollment it saw (GET /bench/last-enrollment: the body
// and the headers that matter, so a floor can be shown to post what the agent posts) and counts
// heartbeats by the body's sensorLabel (GET /bench/beats: CPU per beat is CPU over beats counted).
import { parseArgs } from "node:util";

/** The token every enrollment gets: the contract's charset, 43 characters like a real one. */
export const BENCH_SENSOR_TOKEN = "bench-sensor-token-0123456789abcdefABCDEF_xyz";

const enrolled = JSON.stringify({
  success: true,
  data: {
    sensorId: "00000000-0000-4000-8000-000000000001",
    sensorToken: BENCH_SENSOR_TOKEN,
    backendUrl: "http://10.10.10.70:5009",
    heartbeatIntervalSeconds: 30,
  },
});
const accepted = (interval: number) =>
  JSON.stringify({ success: true, data: { heartbeatIntervalSeconds: interval } });
const json = { "content-type": "application/json" };

/** What GET /bench/last-enrollment answers: the last enrollment request as received. */
export interface SeenEnrollment {
  readonly body: unknown;
  readonly headers: Record<string, string | null>;
}

/** The request headers an enrollment is judged by (docs/protocol.md). */
const ENROLLMENT_HEADERS = ["accept", "content-type", "user-agent", "idempotency-key"];

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      lifetime: { type: "string", default: "300" },
      interval: { type: "string", default: "30" },
    },
  });
  const beatReply = accepted(Number(values.interval));
  let lastEnrollment: SeenEnrollment | undefined;
  const beats: Record<string, number> = {};
  const lifetimeMs = Number(values.lifetime) * 1000;
  const stop = new AbortController();
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      signal: stop.signal,
      onListen: ({ port }) => console.log(`port ${port}`),
    },
    async (request) => {
      const body = await request.text(); // read the whole body, as a real backend would
      const path = new URL(request.url).pathname;
      if (path.endsWith("/api/sensors/enroll")) {
        lastEnrollment = {
          body: JSON.parse(body),
          headers: Object.fromEntries(ENROLLMENT_HEADERS.map((h) => [h, request.headers.get(h)])),
        };
        return new Response(enrolled, { headers: json });
      }
      if (path.endsWith("/api/sensors/heartbeat")) {
        // The label alone, found without parsing the body: the server's CPU is not measured, but
        // it shares the machine with what is.
        const label = /"sensorLabel":"([^"]*)"/.exec(body)?.[1] ?? "";
        beats[label] = (beats[label] ?? 0) + 1;
        return new Response(beatReply, { headers: json });
      }
      if (path === "/bench/last-enrollment") return Response.json(lastEnrollment ?? null);
      if (path === "/bench/beats") return Response.json(beats);
      return new Response("not found", { status: 404 });
    },
  );
  const end = () => stop.abort();
  Deno.addSignalListener("SIGTERM", end);
  const timer = setTimeout(end, lifetimeMs);
  // The parent holds our stdin: when it goes away (crash, ^C), so do we.
  (async () => {
    for await (const _ of Deno.stdin.readable) { /* nothing is sent; wait for EOF */ }
    end();
  })();
  await server.finished;
  clearTimeout(timer);
  Deno.removeSignalListener("SIGTERM", end);
  Deno.exit(0);
}
