// main.ts: the sensor agent's command line. Parses arguments, sets up logging and signals, runs one
// command, and turns every failure into one line and the exit code of contract section 4.
import { parseArgs } from "node:util";
import { enrollCommand, inventoryCommand, runCommand, statusCommand } from "./lib/agent.ts";
import { DEFAULT_CONFIG_PATH, loadConfig, readEnvironment } from "./lib/config.ts";
import { AgentError, ExitCode } from "./lib/errors.ts";
import { checkConfigTarget } from "./lib/persist.ts";
import { AGENT_VERSION } from "./lib/hostfacts.ts";
import { log, LOG_FORMATS, LOG_LEVELS, setLogOptions } from "./lib/log.ts";
import { redact } from "./lib/secrets.ts";

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

type Command = "run" | "enroll" | "inventory" | "status";
const COMMANDS: readonly Command[] = ["run", "enroll", "inventory", "status"];

interface Invocation {
  readonly command: Command;
  readonly configPath?: string;
  readonly force: boolean;
  readonly check: boolean;
  readonly help: boolean;
  readonly version: boolean;
}

/** Parses argv strictly: an unknown command or flag is a usage error (64). */
export function parseInvocation(args: string[]): Invocation {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: "string" },
        force: { type: "boolean", default: false },
        check: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const [command = "run", ...rest] = parsed.positionals;
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw usageError(`unknown command "${command}"`);
  }
  if (rest.length > 0) throw usageError(`unexpected argument "${rest[0]}"`);
  if (parsed.values.force && command !== "enroll") {
    throw usageError("--force goes with enroll only");
  }
  if (parsed.values.config === "") throw usageError("--config needs a path");
  return {
    command: command as Command,
    configPath: parsed.values.config,
    force: parsed.values.force,
    check: parsed.values.check,
    help: parsed.values.help,
    version: parsed.values.version,
  };
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

/**
 * Applies LOG_FORMAT and LOG_LEVEL from the environment before the config is read, so that even a
 * configuration error comes out as a JSON line where JSON was asked for. The file's values (and
 * their validation) take over once the config has loaded.
 */
function logAsTheEnvironmentAsks(): void {
  const env = readEnvironment();
  const format = LOG_FORMATS.find((f) => f === env.LOG_FORMAT);
  const level = LOG_LEVELS.find((l) => l === env.LOG_LEVEL);
  if (format) setLogOptions({ format });
  if (level) setLogOptions({ level });
}

/** Runs the agent with `args` and returns the process's exit code. */
export async function main(args: string[]): Promise<number> {
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
    logAsTheEnvironmentAsks();
    const ctx = { configPath: configPathFrom(invocation), signal: stop.signal };
    // enroll's 73 first: a config reached through a link out of the grant means nothing is sent.
    if (invocation.command === "enroll") await checkConfigTarget(ctx.configPath);
    const config = await loadConfig(ctx.configPath);
    setLogOptions({ level: config.logLevel, format: config.logFormat });
    if (config.backendUrl?.protocol === "http:" && ["run", "enroll"].includes(invocation.command)) {
      log.warn("BACKEND_URL uses http://: tokens travel unencrypted; use https:// outside a lab", {
        backend: config.backendUrl.href,
      });
    }
    switch (invocation.command) {
      case "enroll":
        return await enrollCommand(ctx, invocation.force);
      case "inventory":
        return await inventoryCommand(ctx);
      case "status":
        return await statusCommand(ctx, invocation.check);
      default:
        return await runCommand(ctx);
    }
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
