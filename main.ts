// main.ts: the sensor agent's command line. Parses arguments, listens for signals, runs one command
// (lib/commands/), and turns every failure into one line and the exit code of
// docs/configuration.md, Exit codes.
import { mark } from "./lib/timing.ts";
import {
  type Invocation,
  parseInvocation as parseArgs,
  runInvocation,
  UsageProblem,
} from "./lib/commands/mod.ts";
import { AgentError, ExitCode } from "./lib/errors.ts";
import { log } from "./lib/log.ts";
import { redact } from "./lib/secrets.ts";
import { AGENT_VERSION } from "./lib/version.ts";

// Commands and configuration are imported when a command runs, not before (lib/commands/mod.ts):
// --help and --version answer without loading them, and no module is loaded that the command does
// not use. The default is lib/config/load.ts's, as a test checks.
const DEFAULT_CONFIG_PATH = "/etc/ravenxcope/sensor-agent.env";

const USAGE = `Usage: sensor-agent [run|enroll|inventory|status] [--config PATH] [options]

Commands:
  run         enroll if needed, then report to the backend (default)
  enroll      enroll if needed, save the sensor token, exit 0
  inventory   print the enrollment payload this host would send (the install token as a fingerprint)
  status      say whether this sensor is enrolled, with which backend and config file

Options:
  --config PATH   env file to use (default: $SENSOR_AGENT_CONFIG, else ${DEFAULT_CONFIG_PATH})
  --force         with enroll: enroll again with INSTALL_TOKEN and replace SENSOR_TOKEN
  --check         with status: also ask the backend whether it answers (no token is sent)
  -h, --help      show this help
  --version       print the version

Exit codes: 0 ok, 1 not enrolled (status), 64 usage, 69 backend unreachable, 73 config not writable,
76 bad enrollment reply, 77 token rejected, 78 configuration error.`;

export { DEFAULT_CONFIG_PATH };

/** Parses argv strictly: an unknown command or flag is a usage error (64). */
export function parseInvocation(args: string[]): Invocation {
  try {
    return parseArgs(args);
  } catch (error) {
    if (error instanceof UsageProblem) throw usageError(error.message);
    throw error;
  }
}

function usageError(problem: string): AgentError {
  return new AgentError(ExitCode.usage, problem, "See sensor-agent --help");
}

function configPathFrom(invocation: Invocation): string {
  if (invocation.configPath !== undefined) return invocation.configPath;
  try {
    return Deno.env.get("SENSOR_AGENT_CONFIG") || DEFAULT_CONFIG_PATH;
  } catch {
    return DEFAULT_CONFIG_PATH;
  }
}

/** Runs the agent with `args` and returns the process's exit code. */
export async function main(args: string[]): Promise<number> {
  mark("main");
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
  for (const name of signals) Deno.addSignalListener(name, onSignal);
  try {
    const invocation = parseInvocation(args);
    if (invocation.help) {
      console.log(USAGE);
      return ExitCode.ok;
    }
    if (invocation.version) {
      console.log(`sensor-agent ${AGENT_VERSION}`);
      return ExitCode.ok;
    }
    return await runInvocation(invocation, configPathFrom(invocation), stop.signal);
  } catch (error) {
    if (error instanceof AgentError) {
      if (error.exitCode === ExitCode.usage) console.error(USAGE);
      log.error(`${error.message}. ${error.advice}`, { exitCode: error.exitCode });
      return error.exitCode;
    }
    // A bug, not a condition the user can fix: say so without a stack trace full of values.
    log.error(`internal error: ${redact(String(error))}. Please report this with the log above`, {
      exitCode: 70,
    });
    return 70;
  } finally {
    for (const name of signals) Deno.removeSignalListener(name, onSignal);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
