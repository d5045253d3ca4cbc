// tests/support/netns_backend.ts: a backend that runs as its own process inside a network namespace
// (a Deno process cannot enter one, so tests/support/backend.ts cannot serve there). Run as a
// script it listens on the address in argv, prints `{"listening":<port>}`, then one JSON line per
// request, and enrolls every sensor with the token in NETNS_BACKEND_SENSOR_TOKEN (env, never argv).
// Imported, it gives startNetnsBackend, which starts the script in a namespace and collects its
// lines.
import { keptEnv } from "./env.ts";
import type { NetNamespace } from "./netns.ts";

const TOKEN_VARIABLE = "NETNS_BACKEND_SENSOR_TOKEN";

/** One request as the backend saw it, with the peer address of its connection. */
export interface NetnsRequest {
  readonly method: string;
  readonly path: string;
  readonly remoteAddress: string;
  readonly body: string;
}

/** A backend process in a namespace. `stop` ends it and returns every request it saw. */
export interface NetnsBackend {
  readonly url: string;
  stop(): Promise<NetnsRequest[]>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts the backend in `ns` on `hostname` and waits until it listens (10 s at most). */
export async function startNetnsBackend(
  ns: NetNamespace,
  hostname: string,
  sensorToken: string,
): Promise<NetnsBackend> {
  const child = new Deno.Command("ip", {
    args: [
      ...["netns", "exec", ns.name, Deno.execPath(), "run", "-q", "--no-prompt"],
      ...[`--allow-net=${hostname}`, `--allow-env=${TOKEN_VARIABLE}`, import.meta.filename!],
      hostname,
    ],
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin",
      ...keptEnv(),
      [TOKEN_VARIABLE]: sensorToken,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit", // a backend that fails to start says why in the test's output
  }).spawn();
  const lines = jsonLines(child.stdout);
  const requests: NetnsRequest[] = [];
  let collecting: Promise<void> | undefined;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    await collecting;
    await lines.return(undefined); // cancels stdout when we never got to collect it
    await child.status;
    return requests;
  };
  try {
    const ready = await withDeadline(lines.next(), 10_000, "the backend did not start listening");
    if (ready.done) throw new Error("the backend exited before it listened");
    const port = (ready.value as { listening: number }).listening;
    collecting = (async () => {
      for await (const line of lines) requests.push(line as NetnsRequest);
    })();
    return { url: `http://${hostname}:${port}`, stop, [Symbol.asyncDispose]: () => stop().then() };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The JSON lines of a byte stream. */
async function* jsonLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield JSON.parse(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
  }
}

async function withDeadline<T>(promise: Promise<T>, ms: number, problem: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${problem} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The process itself: answers the enrollment of docs/protocol.md, Host facts and logs every request. */
function serve(hostname: string, sensorToken: string): void {
  Deno.serve({
    hostname,
    port: 0,
    onListen: ({ port }) => console.log(JSON.stringify({ listening: port })),
  }, async (request, info) => {
    const path = new URL(request.url).pathname;
    const seen: NetnsRequest = {
      method: request.method,
      path,
      remoteAddress: info.remoteAddr.hostname,
      body: await request.text(),
    };
    console.log(JSON.stringify(seen)); // before answering: the test reads it once the agent is done
    if (request.method !== "POST" || path !== "/api/sensors/enroll") {
      return new Response("not found", { status: 404 });
    }
    return Response.json({
      success: true,
      data: { sensorId: crypto.randomUUID(), sensorToken, heartbeatIntervalSeconds: 30 },
    });
  });
}

if (import.meta.main) {
  const sensorToken = Deno.env.get(TOKEN_VARIABLE);
  if (Deno.args.length !== 1 || !sensorToken) {
    console.error(`usage: ${TOKEN_VARIABLE}=<token> netns_backend.ts <listen address>`);
    Deno.exit(64);
  }
  serve(Deno.args[0], sensorToken);
}
