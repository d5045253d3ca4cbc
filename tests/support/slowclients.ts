// tests/support/slowclients.ts: hostile clients in a process of their own, so that thousands of
// sockets neither count against the test runner's open-file limit nor slow its event loop while it
// probes. `startSlowClients` runs this file as a script under a raised `ulimit -n`; the script
// opens the clients, says `ready`, holds them until stdin closes, and then reports as one JSON line
// what became of them. Loopback only; every client is bounded in bytes and in time.
//   - idle: TCP connections that never send a byte (not even a TLS hello);
//   - slowloris: a TLS request head trickled one byte per second, never finished;
//   - slowbody: a whole TLS request head, then a body of 64 KiB trickled one byte per second, from
//     `addresses` source addresses in turn (fetch with a streaming body: chunked on the wire);
//   - chunkbomb: a TLS request whose body of `bodyBytes` is sent in 1-byte chunks, as fast as the
//     server takes it; its answer is reported.
import { join } from "node:path";
import { PROJECT } from "./agent.ts";

/** What to open against 127.0.0.1:`port`. */
export interface SlowClientsPlan {
  readonly kind: "idle" | "slowloris" | "slowbody" | "chunkbomb";
  readonly count: number;
  readonly port: number;
  /** PEM of the CA the server's certificate chains to (TLS kinds). */
  readonly caPem?: string;
  /** slowbody: source addresses 127.0.1.1 ... 127.0.1.<addresses>, used in turn. */
  readonly addresses?: number;
  /** chunkbomb: the body's size in bytes (each byte a chunk of its own). */
  readonly bodyBytes?: number;
}

/** What became of the clients. */
export interface SlowClientsReport {
  readonly opened: number;
  readonly failed: number;
  /** Milliseconds from open to the server's close, for each client the server closed. */
  readonly closedAfterMs: number[];
  /** chunkbomb: the status line of each answer ("no answer" when there was none). */
  readonly answers: string[];
}

/** A running set of slow clients. */
export interface SlowClients {
  /** Resolves once every client is open (or failed to open). */
  readonly ready: Promise<{ opened: number; failed: number }>;
  /** Closes every client and resolves with the report. */
  stop(): Promise<SlowClientsReport>;
}

/** Why a child cannot hold 10,000 sockets here (the hard open-file limit), or undefined. */
export async function slowClientsMissing(): Promise<string | undefined> {
  const output = await new Deno.Command("sh", {
    args: ["-c", "ulimit -n 10000"],
    stdout: "null",
    stderr: "null",
  }).output();
  return output.success
    ? undefined
    : "the open-file hard limit is below 10,000 (ulimit -Hn): the floods cannot be held";
}

/** Starts `plan` in a child process under `ulimit -n 10000`. */
export function startSlowClients(plan: SlowClientsPlan): SlowClients {
  const script = join(PROJECT, "tests", "support", "slowclients.ts");
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'ulimit -n 10000 && exec "$0" run -q -A "$1" "$2"',
      Deno.execPath(),
      script,
      JSON.stringify(plan),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const end = pending.indexOf("\n");
      if (end >= 0) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        return line;
      }
      const { value, done } = await lines.read();
      if (done) throw new Error(`the slow clients (${plan.kind}) ended early`);
      pending += value;
    }
  };
  const ready = nextLine().then((line) => JSON.parse(line));
  return {
    ready,
    async stop() {
      await ready.catch(() => {});
      await child.stdin.close();
      const report = JSON.parse(await nextLine()) as SlowClientsReport;
      await lines.cancel();
      await child.status;
      return report;
    },
  };
}

const encoder = new TextEncoder();

/** One client: `closed` resolves when the server closed it (undefined: we stopped it first). */
interface Client {
  readonly closed: Promise<number | undefined>;
  /** The status line of the server's answer, if one came. */
  readonly answer?: string;
  close(): void;
}

async function open(plan: SlowClientsPlan, i: number, stop: AbortSignal): Promise<Client> {
  if (plan.kind === "slowbody") return await slowBody(plan, i, stop, performance.now());
  const conn = plan.kind === "idle"
    ? await Deno.connect({ hostname: "127.0.0.1", port: plan.port })
    : await Deno.connectTls({ hostname: "127.0.0.1", port: plan.port, caCerts: [plan.caPem!] });
  // The proxy's deadlines run from the connection it accepted: on a loaded machine a TLS handshake
  // among thousands can take seconds of its own, which is not the proxy's to answer for.
  const started = performance.now();
  const writing = plan.kind === "slowloris"
    ? trickle(conn, "POST /api/sensors/enroll HTTP/1.1\r\nHost: localhost\r\nX-Slow: ", stop)
    : plan.kind === "chunkbomb"
    ? chunkBomb(conn, plan.bodyBytes ?? 1024 * 1024)
    : Promise.resolve();
  writing.catch(() => {});
  const seen: { answer?: string } = {};
  const closed = (async () => {
    const buffer = new Uint8Array(4096);
    try {
      // Read until the server closes; a stop of ours ends the read with an error.
      for (let n; (n = await conn.read(buffer)) !== null;) {
        seen.answer ??= new TextDecoder().decode(buffer.subarray(0, n)).split("\r\n")[0];
      }
    } catch {
      if (stop.aborted) return undefined;
    }
    return stop.aborted ? undefined : performance.now() - started;
  })();
  return {
    closed,
    get answer() {
      return seen.answer;
    },
    close: () => safely(() => conn.close()),
  };
}

/** Writes `head` and then one byte a second, until the connection or `stop` ends it. */
async function trickle(conn: Deno.Conn, head: string, stop: AbortSignal): Promise<void> {
  await conn.write(encoder.encode(head));
  while (!stop.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (!stop.aborted) await conn.write(encoder.encode("x"));
  }
}

/** A POST of a JSON body of `bytes` bytes, each byte a chunk of its own, written in big pieces. */
async function chunkBomb(conn: Deno.Conn, bytes: number): Promise<void> {
  const body = `{"pad":"${"x".repeat(bytes - 10)}"}`;
  await conn.write(encoder.encode(
    "POST /api/sensors/enroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
  ));
  const perWrite = 10_000; // characters: 60,000 bytes of chunks
  for (let start = 0; start < body.length; start += perWrite) {
    const part = body.slice(start, start + perWrite);
    await conn.write(encoder.encode([...part].map((char) => `1\r\n${char}\r\n`).join("")));
  }
  await conn.write(encoder.encode("0\r\n\r\n"));
}

const clients = new Map<number, Deno.HttpClient>();

/** A streaming body trickled through fetch from source address 127.0.1.<n>. */
function slowBody(
  plan: SlowClientsPlan,
  i: number,
  stop: AbortSignal,
  started: number,
): Promise<Client> {
  const n = 1 + i % (plan.addresses ?? 1);
  let client = clients.get(n);
  if (client === undefined) {
    client = Deno.createHttpClient({ caCerts: [plan.caPem!], localAddress: `127.0.1.${n}` });
    clients.set(n, client);
  }
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (stop.aborted) controller.close();
      else controller.enqueue(encoder.encode("x"));
    },
    start(controller) {
      controller.enqueue(encoder.encode('{"pad":"'));
    },
  });
  const answered = fetch(`https://127.0.0.1:${plan.port}/api/sensors/enroll`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
    client,
    signal: stop,
  }).then(async (response) => {
    await response.body?.cancel();
    return stop.aborted ? undefined : performance.now() - started;
  }, () => stop.aborted ? undefined : performance.now() - started);
  return Promise.resolve({ closed: answered, close: () => {} });
}

function safely(close: () => void): void {
  try {
    close();
  } catch {
    // already closed
  }
}

if (import.meta.main) {
  const plan = JSON.parse(Deno.args[0]) as SlowClientsPlan;
  const stop = new AbortController();
  const opened: Client[] = [];
  let failed = 0;
  // A few hundred at a time: the kernel's accept queue, not the test, sets the pace.
  for (let start = 0; start < plan.count; start += 200) {
    const batch = Array.from(
      { length: Math.min(200, plan.count - start) },
      (_, k) => open(plan, start + k, stop.signal),
    );
    for (const result of await Promise.allSettled(batch)) {
      if (result.status === "fulfilled") opened.push(result.value);
      else failed++;
    }
  }
  console.log(JSON.stringify({ opened: opened.length, failed }));
  for await (const _ of Deno.stdin.readable) { /* hold until the parent closes stdin */ }
  if (plan.kind === "chunkbomb") {
    // Each bomb is 6 MiB of chunk framing through TLS: on a loaded machine its answer may still be
    // on its way. Wait for it (the server closes each after answering), bounded.
    await Promise.race([
      Promise.allSettled(opened.map((client) => client.closed)),
      new Promise((resolve) => setTimeout(resolve, 30_000)),
    ]);
  }
  // Those the server closed by now: a settled `closed` wins the race against a fresh -1.
  const times: number[] = [];
  await Promise.all(opened.map(async (client) => {
    const at = await Promise.race([client.closed, Promise.resolve(-1)]);
    if (at !== -1 && at !== undefined) times.push(at);
  }));
  stop.abort();
  for (const client of opened) client.close();
  const answers = plan.kind === "chunkbomb"
    ? opened.map((client) => client.answer ?? "no answer")
    : [];
  await Promise.allSettled(opened.map((client) => client.closed));
  for (const client of clients.values()) client.close();
  const report: SlowClientsReport = {
    opened: opened.length,
    failed,
    closedAfterMs: times,
    answers,
  };
  console.log(JSON.stringify(report));
  Deno.exit(0);
}
