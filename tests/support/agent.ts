// tests/support/agent.ts: runs the real main.ts as a subprocess under a scoped permission set, the
// way it ships, and keeps every token a test used so output can be scanned for leaks.
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CONFIG_KEYS } from "../../lib/config/mod.ts";
import { keptEnv } from "./env.ts";

export const PROJECT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
/**
 * The agent the tests run: main.ts, or with TEST_AGENT_MAIN set (a path, absolute or from the
 * project's root) that file instead, such as a copy of the bundle `deno task build` writes, to run
 * the suite on it. It must lie in the project: Deno finds the `agent` permission set in the
 * deno.json above the file it runs. The container layout and the address-pin status test run
 * main.ts regardless.
 */
export const MAIN = resolve(PROJECT, agentUnderTest() ?? "main.ts");
const MODULES_MAIN = join(PROJECT, "main.ts");

function agentUnderTest(): string | undefined {
  // The bench imports this module too, under a set that grants no environment: main.ts there.
  const variable = "TEST_AGENT_MAIN";
  if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") return undefined;
  const path = Deno.env.get(variable) || undefined;
  if (path !== undefined && relative(PROJECT, resolve(PROJECT, path)).startsWith("..")) {
    throw new Error(`${variable}=${path} is outside the project: copy it into dist/ and name that`);
  }
  return path;
}

/** The proxy variables the shipped permission set may read, as deno.json lists them. */
const PROXY_KEYS = [
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
  "https_proxy",
  "http_proxy",
  "no_proxy",
];

/** Every token any test handed to or got from the agent; no output may contain one. */
export const usedTokens = new Set<string>();

/** A fresh random token in the contract's charset, remembered for the leak scan. */
export function newToken(prefix: string): string {
  const token = `${prefix}-${crypto.randomUUID()}`;
  usedTokens.add(token);
  return token;
}

/** What one agent run printed and how it ended. */
export interface AgentRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options for one run: extra readable/writable paths beyond the temp dir, env, and net scope. */
export interface AgentOptions {
  readonly env?: Record<string, string>;
  readonly read?: string[];
  readonly write?: string[];
  readonly net?: string;
  readonly signal?: AbortSignal;
  /** The main.ts to run, when not the project's own: a readable copy for another uid. */
  readonly main?: string;
  /** More flags for `deno run`, before the program (`--v8-flags=…`). */
  readonly denoFlags?: string[];
}

/**
 * The agent's permission flags for a test: like the shipped set, but with the test's temp dir in
 * place of /etc/ravenxcope and the fixture roots in place of /host/*.
 */
export function permissionFlags(options: AgentOptions): string[] {
  const read = [...(options.read ?? []), ...(options.write ?? [])];
  const flags = [
    `--allow-env=${[...CONFIG_KEYS, "SENSOR_AGENT_CONFIG", ...PROXY_KEYS].join(",")}`,
    "--allow-sys=hostname,networkInterfaces",
    `--allow-net=${options.net ?? "127.0.0.1"}`,
  ];
  if (read.length > 0) flags.push(`--allow-read=${read.join(",")}`);
  if ((options.write ?? []).length > 0) flags.push(`--allow-write=${options.write!.join(",")}`);
  return flags;
}

/**
 * Runs `main.ts args` with a clean environment (`options.env`, PATH, and the variables that find
 * Deno's cache and the machine's CAs: support/env.ts) and waits for it.
 */
export async function runAgent(args: string[], options: AgentOptions = {}): Promise<AgentRun> {
  const output = await agentCommand(args, options).output();
  const run = {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
  assertNoTokens(run.stdout + run.stderr);
  return run;
}

/** The command for a run, for tests that need the child process itself (signals, races). */
export function agentCommand(args: string[], options: AgentOptions = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-q",
      "--no-prompt",
      ...permissionFlags(options),
      ...options.denoFlags ?? [],
      options.main ?? MAIN,
      ...args,
    ],
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      NO_COLOR: "1",
      ...keptEnv(),
      ...coverage(),
      ...options.env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  });
}

/** Fails the test if `text` holds any token the tests used (docs/protocol.md, Secrets). */
export function assertNoTokens(text: string): void {
  for (const token of usedTokens) {
    if (text.includes(token)) {
      throw new Error(`a token leaked into the output: ${text.length} chars scanned`);
    }
  }
}

/** An agent left running: its output so far, a way to wait for a line, and a way to stop it. */
export interface RunningAgent {
  readonly process: Deno.ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves once stderr matches `pattern`; rejects after `timeoutMs` or if the agent exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (SIGTERM by default), waits for the exit, and returns the whole run. */
  stop(signal?: Deno.Signal): Promise<AgentRun>;
  /** Waits for the agent to exit by itself. */
  exited(): Promise<AgentRun>;
}

/** Starts the agent and keeps it running until the test stops it (or it exits by itself). */
export function startAgent(args: string[], options: AgentOptions = {}): RunningAgent {
  const process = agentCommand(args, options).spawn();
  let stdout = "";
  let stderr = "";
  const collect = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) add(text);
  };
  const streams = Promise.all([
    collect(process.stdout, (text) => stdout += text),
    collect(process.stderr, (text) => stderr += text),
  ]);
  const result = (async () => {
    const [status] = await Promise.all([process.status, streams]);
    const run = { code: status.code, stdout, stderr };
    assertNoTokens(stdout + stderr);
    return run;
  })();
  let exited = false;
  result.then(() => exited = true, () => exited = true);
  return {
    process,
    stderr: () => stderr,
    async waitFor(pattern, timeoutMs = 10_000) {
      const deadline = performance.now() + timeoutMs;
      while (!pattern.test(stderr)) {
        if (exited) throw new Error(`the agent exited before ${pattern}: ${stderr}`);
        if (performance.now() > deadline) {
          throw new Error(`no ${pattern} within ${timeoutMs} ms: ${stderr}`);
        }
        await new Promise((done) => setTimeout(done, 20));
      }
    },
    async stop(signal = "SIGTERM") {
      if (!exited) {
        try {
          process.kill(signal);
        } catch {
          // already gone
        }
      }
      return await result;
    },
    exited: () => result,
  };
}

/** Passes a coverage directory on, so `deno test --coverage` also counts the agent subprocesses. */
function coverage(): Record<string, string> {
  const dir = Deno.env.get("DENO_COVERAGE_DIR");
  return dir ? { DENO_COVERAGE_DIR: dir } : {};
}

/** The agent's code (main.ts, lib/, deno.json, deno.lock) copied where any uid may read it. */
export interface ReadableCopy {
  /** The directory that holds the copy. */
  readonly dir: string;
  /** The copy's main.ts, for `AgentOptions.main`. */
  readonly main: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Copies the agent's code (or the project's `names`) to a fresh world-readable temporary directory,
 * for a test that runs it as another uid: the clone itself may sit in a 0700 directory (a home,
 * `mktemp -d`) that uid cannot enter. With TEST_AGENT_MAIN, that file is copied too and is the
 * copy's `main`. Removed at the end of scope.
 */
export async function readableCopy(
  names: readonly string[] = ["main.ts", "lib", "deno.json", "deno.lock"],
): Promise<ReadableCopy> {
  const dir = await Deno.makeTempDir({ prefix: "sensor-agent-code-" });
  const copy = async (from: string, to: string) => {
    const info = await Deno.stat(from);
    if (info.isDirectory) {
      await Deno.mkdir(to, { mode: 0o755 });
      await Deno.chmod(to, 0o755); // the umask may have narrowed it
      for await (const entry of Deno.readDir(from)) {
        await copy(join(from, entry.name), join(to, entry.name));
      }
    } else {
      await Deno.copyFile(from, to);
      await Deno.chmod(to, (info.mode ?? 0) & 0o111 ? 0o755 : 0o644);
    }
  };
  try {
    await Deno.chmod(dir, 0o755);
    for (const name of names) {
      await copy(join(PROJECT, name), join(dir, name));
    }
    if (MAIN !== MODULES_MAIN) await copy(MAIN, join(dir, basename(MAIN)));
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  return {
    dir,
    main: join(dir, MAIN === MODULES_MAIN ? "main.ts" : basename(MAIN)),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}
