// tests/support/wrapped.ts: the real main.ts under the same scoped permission set as agent.ts, but
// started through a wrapper command: strace (to kill it at an exact system call), unshare (a
// private mount namespace with a tiny tmpfs), /usr/bin/time (peak RSS), setpriv (another uid). The
// wrapper never widens Deno's permissions; every run's output is scanned for tokens like
// runAgent's.
import {
  type AgentOptions,
  type AgentRun,
  assertNoTokens,
  MAIN,
  permissionFlags,
} from "./agent.ts";
import { keptEnv } from "./env.ts";

/** A run that may have ended by a signal (SIGKILL from strace, or from the test). */
export interface WrappedRun extends AgentRun {
  readonly signal: Deno.Signal | null;
}

/** `wrapper...` followed by `deno run <scoped permissions> main.ts args...`, clean environment. */
export function wrappedCommand(
  wrapper: string[],
  args: string[],
  options: AgentOptions = {},
): Deno.Command {
  const main = options.main ?? MAIN;
  const deno = ["run", "-q", "--no-prompt", ...permissionFlags(options), main, ...args];
  const [program, ...wrapperArgs] = wrapper.length > 0 ? wrapper : [Deno.execPath()];
  return new Deno.Command(program, {
    args: wrapper.length > 0 ? [...wrapperArgs, Deno.execPath(), ...deno] : deno,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      NO_COLOR: "1",
      ...keptEnv(),
      ...options.env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  });
}

/** Runs the wrapped agent to its end and scans what it printed for tokens. */
export async function runWrapped(
  wrapper: string[],
  args: string[],
  options: AgentOptions = {},
): Promise<WrappedRun> {
  return await finish(wrappedCommand(wrapper, args, options).spawn());
}

/** Collects a spawned child's output, waits for its end, and scans the output for tokens. */
export async function finish(child: Deno.ChildProcess): Promise<WrappedRun> {
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  assertNoTokens(stdout + stderr);
  return { code: status.code, signal: status.signal, stdout, stderr };
}

/** Why a command cannot be used here (missing, or failing its probe), or undefined when it can. */
export async function unavailable(program: string, probe: string[]): Promise<string | undefined> {
  try {
    const output = await new Deno.Command(program, {
      args: probe,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return output.success ? undefined : `${program} ${probe.join(" ")} failed (${output.code})`;
  } catch (error) {
    return `${program} is not available: ${error instanceof Error ? error.message : error}`;
  }
}
