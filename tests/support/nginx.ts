// tests/support/nginx.ts: the shipped reverse proxy (deploy/backend/nginx.conf) run by Debian's
// nginx in front of a real reference backend, as the tests' own instance: the shipped file with only
// its machine-specific lines moved (where it listens, where the backend is, the paths of its pid,
// logs, temporary files and certificate), each move checked to have happened exactly once, so that
// the tests fail if the shipped file changes shape instead of quietly testing something else.
import { join } from "node:path";
import { PROJECT } from "./agent.ts";
import type { TestCerts } from "./certs.ts";

/** The shipped configuration. */
export const PROXY_CONFIG = join(PROJECT, "deploy", "backend", "nginx.conf");

/** Debian's nginx: on PATH, or in /usr/sbin, which a user's PATH may lack. */
export const NGINX = await (async () => {
  try {
    await Deno.stat("/usr/sbin/nginx");
    return "/usr/sbin/nginx";
  } catch {
    return "nginx";
  }
})();

/** Why the proxy cannot run here (no nginx), or undefined when it can. */
export async function nginxMissing(): Promise<string | undefined> {
  try {
    const output = await new Deno.Command(NGINX, { args: ["-v"], stderr: "piped" }).output();
    return output.success ? undefined : "nginx -v failed";
  } catch {
    return "nginx is not installed (Debian: apt-get install nginx; .ci/run installs it)";
  }
}

/** Where the tests' instance lives and what it talks to. */
export interface ProxyPlaces {
  /** A directory of its own: run/, cache/, log/ and tls/ go inside. */
  readonly dir: string;
  readonly port: number;
  readonly backendPort: number;
}

/**
 * The shipped configuration with its machine-specific strings replaced for `places`. Throws when a
 * string to replace is not in the file exactly as often as expected.
 */
export function proxyConfigFor(shipped: string, places: ProxyPlaces): string {
  const moves: [from: string, to: string, times: number][] = [
    ["listen 443 ssl;", `listen 127.0.0.1:${places.port} ssl;`, 1],
    ["listen [::]:443 ssl;", "", 1],
    ["server 127.0.0.1:5009 ", `server 127.0.0.1:${places.backendPort} `, 1],
    ["/run/ravenxcope-proxy/", `${places.dir}/run/`, 1],
    ["/var/log/ravenxcope-proxy/", `${places.dir}/log/`, 1],
    ["/var/cache/ravenxcope-proxy/", `${places.dir}/cache/`, 5],
    ["/run/credentials/ravenxcope-proxy.service/", `${places.dir}/tls/`, 2],
  ];
  let text = shipped;
  for (const [from, to, times] of moves) {
    const found = text.split(from).length - 1;
    if (found !== times) {
      throw new Error(`${PROXY_CONFIG}: "${from}" appears ${found} times, expected ${times}`);
    }
    text = text.replaceAll(from, to);
  }
  return text;
}

/** A running proxy; `stop` (or `await using`) ends it. */
export interface RunningProxy {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** What nginx wrote on stderr (its error log) so far. */
  output(): string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A port free right now on 127.0.0.1 (for a process that must be told its port beforehand). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Starts nginx with the shipped configuration moved to `places`, presenting `certs`' server
 * certificate, and resolves once it answers over TLS.
 */
export async function startProxy(places: ProxyPlaces, certs: TestCerts): Promise<RunningProxy> {
  for (const sub of ["run", "cache", "log", "tls"]) await Deno.mkdir(join(places.dir, sub));
  // Run as root, nginx's workers become `nobody`: they must reach the temporary files' directory.
  await Deno.chmod(places.dir, 0o755);
  await Deno.copyFile(certs.serverCert.path, join(places.dir, "tls", "fullchain.pem"));
  await Deno.copyFile(certs.serverKey.path, join(places.dir, "tls", "privkey.pem"));
  const config = join(places.dir, "nginx.conf");
  await Deno.writeTextFile(
    config,
    proxyConfigFor(await Deno.readTextFile(PROXY_CONFIG), places),
  );
  // The shipped file asks for 65,536 descriptors per worker; the unit's LimitNOFILE grants them.
  const process = new Deno.Command("sh", {
    args: [
      "-c",
      'ulimit -n 65536 2>/dev/null; exec "$0" -e stderr -c "$1" -g "daemon off;"',
      NGINX,
      config,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let output = "";
  const reading = (async () => {
    for await (const text of process.stderr.pipeThrough(new TextDecoderStream())) output += text;
  })();
  const url = `https://127.0.0.1:${places.port}`;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        process.kill("SIGQUIT"); // nginx's graceful stop: workers finish, then exit
      } catch {
        // already gone
      }
      await Promise.all([process.status, reading]);
    })();
  using client = Deno.createHttpClient({ caCerts: [certs.ca.pem] });
  const until = performance.now() + 10_000;
  for (;;) {
    try {
      const response = await fetch(`${url}/api/sensors/heartbeat`, { method: "HEAD", client });
      await response.body?.cancel();
      break;
    } catch (error) {
      if (performance.now() > until) {
        await stop();
        throw new Error(`nginx did not answer within 10 s: ${error}; its log: ${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    port: places.port,
    pid: process.pid,
    output: () => output,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
