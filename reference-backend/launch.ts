// reference-backend/launch.ts: starts the reference backend as a subprocess under its permission
// set, the way `deno task backend` does, and waits for it to listen. Used by the demo and tests.
import { join } from "node:path";
import { type AgentBinary, DOWNLOADS, PROJECT_ROOT } from "./install/mod.ts";
import { BACKEND_ENV } from "./settings.ts";

/**
 * The backend's permissions: loopback only, its own variables, read/write on the store's directory,
 * and read on the two files it serves (install/downloads.ts), nothing else. The served files are
 * named relative to the project's root, where `deno task backend` runs, unless `root` is given.
 * `deno task backend` uses the same with `.backend-data`.
 */
export function backendPermissionFlags(dataDir: string, root?: string): string[] {
  const served = Object.values(DOWNLOADS).map((path) =>
    root === undefined ? path : join(root, path)
  );
  return [
    "--allow-net=127.0.0.1",
    `--allow-env=${BACKEND_ENV.join(",")}`,
    `--allow-read=${[dataDir, ...served].join(",")}`,
    `--allow-write=${dataDir}`,
  ];
}

/** What to start: where the store lives, the admin token, and the interval handed to agents. */
export interface LaunchOptions {
  readonly dataDir: string;
  readonly adminToken: string;
  readonly heartbeatIntervalSeconds?: number;
  readonly logLevel?: string;
  /** AGENT_BINARY_URL and AGENT_BINARY_SHA256, for the install command; unset by default. */
  readonly agentBinary?: AgentBinary;
  /** The deno executable; the demo passes "deno" so that `--allow-run=deno` covers it. */
  readonly deno?: string;
  /** Called with each line the backend logs (stderr), as it comes. */
  readonly onLine?: (line: string) => void;
  /**
   * More of the backend's variables (settings.ts), e.g. TRUSTED_PROXIES. DEV_INSECURE_HTTP
   * is 1 unless given: a backend launched here serves plain http on loopback.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Runs the backend under `ulimit -n <openFiles>` (through sh), to test it at the limit. */
  readonly openFiles?: number;
  /** A copy of the project to run instead of this one (its deploy/ files are then served). */
  readonly root?: string;
}

/** A running backend. `stop` sends SIGTERM and resolves with the exit code and all it logged. */
export interface LaunchedBackend {
  readonly url: string;
  readonly pid: number;
  /**
   * One call of the admin API with the backend's admin token: the reply's `data`, or an Error
   * naming the request, its status and the backend's reason.
   */
  // deno-lint-ignore no-explicit-any -- the demo and the try-out read several reply shapes by name
  admin(method: string, path: string, body?: unknown): Promise<any>;
  output(): string;
  stop(): Promise<{ code: number; output: string }>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts the backend on a free port of 127.0.0.1 and resolves once it listens. */
export async function launchBackend(options: LaunchOptions): Promise<LaunchedBackend> {
  const env: Record<string, string> = {
    PORT: "0",
    BACKEND_DATA: options.dataDir,
    ADMIN_TOKEN: options.adminToken,
    HEARTBEAT_INTERVAL_SECONDS: String(options.heartbeatIntervalSeconds ?? 30),
    LOG_LEVEL: options.logLevel ?? "info",
    DEV_INSECURE_HTTP: "1",
    NO_COLOR: "1",
    ...options.env,
  };
  if (options.agentBinary !== undefined) {
    env.AGENT_BINARY_URL = options.agentBinary.url;
    env.AGENT_BINARY_SHA256 = options.agentBinary.sha256;
  }
  const root = options.root ?? PROJECT_ROOT;
  const deno = options.deno ?? Deno.execPath();
  const args = [
    "run",
    "-q",
    "--no-prompt",
    "--unstable-kv",
    ...backendPermissionFlags(options.dataDir, root),
    join(root, "reference-backend", "main.ts"),
  ];
  // sh execs deno in its place: the pid is the backend's own.
  const limited = options.openFiles === undefined
    ? undefined
    : ["-c", `ulimit -n ${Math.floor(options.openFiles)} && exec "$0" "$@"`, deno, ...args];
  const process = new Deno.Command(limited === undefined ? deno : "sh", {
    args: limited ?? args,
    env, // the admin token goes by environment: never on argv (the rule of docs/protocol.md, Secrets, kept here)
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let output = "";
  const listening = Promise.withResolvers<string>();
  const reading = (async () => {
    let pending = "";
    for await (const text of process.stderr.pipeThrough(new TextDecoderStream())) {
      output += text;
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        options.onLine?.(line);
        const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
        if (url) listening.resolve(url);
      }
    }
    if (pending) options.onLine?.(pending);
  })();
  const exited = Promise.all([process.status, reading]).then(([status]) => {
    listening.reject(new Error(`the backend exited (${status.code}) before listening: ${output}`));
    return { code: status.code, output };
  });
  let stopped: Promise<{ code: number; output: string }> | undefined;
  const stop = () => {
    if (stopped === undefined) {
      try {
        process.kill("SIGTERM");
      } catch {
        // already gone
      }
      stopped = exited;
    }
    return stopped;
  };
  const timer = setTimeout(
    () => listening.reject(new Error(`the backend did not listen within 20 s: ${output}`)),
    20_000,
  );
  try {
    const url = await listening.promise;
    return {
      url,
      pid: process.pid,
      admin: async (method, path, body) => {
        const response = await fetch(`${url}${path}`, {
          method,
          headers: {
            Authorization: `Bearer ${options.adminToken}`,
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const reply = await response.json();
        if (!response.ok) {
          throw new Error(`${method} ${path}: HTTP ${response.status} ${reply.error}`);
        }
        return reply.data;
      },
      output: () => output,
      stop,
      [Symbol.asyncDispose]: async () => void await stop(),
    };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
