// scripts/child.ts: what the demo and the try-out share about the deno processes they start: the
// variables a child deno needs kept, relaying a child's log lines as they come, and stopping it.

/** What a child deno needs to find its cache and the machine's CAs (the tests keep them too). */
export const KEPT_VARIABLES = [
  "HOME",
  "XDG_CACHE_HOME",
  "DENO_DIR",
  "NPM_CONFIG_REGISTRY",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "DENO_TLS_CA_STORE",
  "DENO_CERT",
] as const;

/** Hands each complete line of `stream` to `show` as it arrives; resolves when the stream ends. */
export async function relayLines(
  stream: ReadableStream<Uint8Array>,
  show: (line: string) => void,
): Promise<void> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (pending + text).split("\n");
    pending = lines.pop()!;
    lines.forEach(show);
  }
  if (pending) show(pending);
}

/** A child whose log lines (stderr) are relayed as they come, and that stops when asked. */
export interface RelayedChild {
  readonly pid: number;
  /** Its exit code once it has exited, else undefined. */
  exitCode(): number | undefined;
  /** Sends SIGTERM unless it exited already (once, however often called); its exit code. */
  stop(): Promise<number>;
}

/**
 * Starts `program` with `args` in `cwd` under exactly `env`, stdin and stdout closed, each line of
 * its stderr handed to `show`.
 */
export function startRelayed(
  program: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; show: (line: string) => void },
): RelayedChild {
  const child = new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reading = relayLines(child.stderr, options.show);
  let code: number | undefined;
  const exited = Promise.all([child.status, reading]).then(([status]) => code = status.code);
  let stopping: Promise<number> | undefined;
  return {
    pid: child.pid,
    exitCode: () => code,
    stop(): Promise<number> {
      if (stopping === undefined) {
        if (code === undefined) child.kill("SIGTERM");
        stopping = exited;
      }
      return stopping;
    },
  };
}
