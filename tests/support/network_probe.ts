// tests/support/network_probe.ts: what a compromised agent holding the shipped `net` grant would
// try first: listen on every address, and ask the cloud's metadata service for credentials. Prints
// for each attempt whether the permission set refused it (JSON). Run by network_grant_test.ts in a
// network namespace of its own, where the metadata addresses are local stand-ins: nothing leaves
// the machine, and with every permission each attempt gets an answer, so the test can fail.
// Arguments: the URL of a stand-in on 127.0.0.1, which the set must still let through (also by a
// name that only the stand-in resolver at 169.254.169.254 knows: GCE's resolver is there), and how
// long each attempt may take in ms (default 2000: where a kernel drops packets, they time out).

const TIMEOUT_MS = Number(Deno.args[1] ?? 2_000);

/** GETs `url` and reads the reply: "allowed" only if the stand-in answered. */
async function get(url: string): Promise<void> {
  const reply = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if ((await reply.text()) !== "stand-in") throw new Error(`${url}: not the stand-in`);
}

function listen(hostname?: string): Promise<void> {
  Deno.listen({ hostname, port: 0 }).close();
  return Promise.resolve();
}

async function connect(hostname: string): Promise<void> {
  const conn = await Deno.connect({ hostname, port: 80, signal: AbortSignal.timeout(TIMEOUT_MS) });
  conn.close();
}

const attempts: Record<string, () => Promise<unknown>> = {
  "listen on 0.0.0.0": () => listen("0.0.0.0"),
  "listen on [::]": () => listen("::"),
  "listen on 0 (0.0.0.0 spelled short)": () => listen("0"),
  "listen with no hostname (0.0.0.0)": () => listen(),
  "Deno.serve with no hostname": async () => {
    const server = Deno.serve({ port: 0, onListen() {} }, () => new Response());
    await server.shutdown();
  },
  "fetch http://169.254.169.254/latest/meta-data/ (AWS, Azure, GCP, OCI, OpenStack)": () =>
    get("http://169.254.169.254/latest/meta-data/"),
  "connect 169.254.169.254:80": () => connect("169.254.169.254"),
  "fetch http://169.254.170.2/v2/credentials (AWS ECS)": () =>
    get("http://169.254.170.2/v2/credentials"),
  "fetch http://[fd00:ec2::254]/ (AWS IMDS over IPv6)": () => get("http://[fd00:ec2::254]/"),
  "fetch http://[fd20:ce::254]/ (GCP over IPv6)": () => get("http://[fd20:ce::254]/"),
  "fetch http://100.100.100.200/ (Alibaba Cloud)": () => get("http://100.100.100.200/"),
  "fetch http://168.63.129.16/ (Azure WireServer)": () => get("http://168.63.129.16/"),
  "fetch http://metadata.google.internal/": () => get("http://metadata.google.internal/"),
  "fetch http://[::ffff:169.254.169.254]/ (IPv4-mapped)": () =>
    get("http://[::ffff:169.254.169.254]/"),
  "fetch http://2852039166/ (169.254.169.254 as one number)": () => get("http://2852039166/"),
  "fetch a name that resolves to 169.254.169.254": () => get("http://innocent.test/"),
  "connect a name that resolves to 169.254.169.254": () => connect("innocent.test"),
  "fetch the backend on 127.0.0.1": () => get(Deno.args[0]),
  "fetch the backend by a name the resolver at 169.254.169.254 answers": () => {
    const url = new URL(Deno.args[0]);
    url.hostname = "backend.test";
    return get(url.href);
  },
  "listen on 127.0.0.1": () => listen("127.0.0.1"),
};

/**
 * "refused" when the permission set said no: NotCapable, or (for a name that resolves to a denied
 * address) fetch's TypeError whose cause is the same check, made after the lookup.
 */
function judge(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) return "refused";
  for (let e = error; e instanceof Error; e = e.cause) {
    if (/Requires net access to/.test(e.message)) return "refused";
  }
  return `failed otherwise: ${(error as Error).name}: ${(error as Error).message}`;
}

const results: Record<string, string> = {};
for (const [name, attempt] of Object.entries(attempts)) {
  try {
    await attempt();
    results[name] = "allowed";
  } catch (error) {
    results[name] = judge(error);
  }
}
console.log(JSON.stringify(results));
