// lib/commands/args.ts: the agent's command line, parsed strictly and without node:util (whose
// parseArgs loads the node layer, about 10 ms of every start). Pure.

/** What the command line asks for. */
export interface Invocation {
  readonly command: Command;
  readonly configPath?: string;
  readonly force: boolean;
  readonly check: boolean;
  readonly help: boolean;
  readonly version: boolean;
}

export type Command = "run" | "enroll" | "inventory" | "status";
export const COMMANDS: readonly Command[] = ["run", "enroll", "inventory", "status"];

/** A command line the agent refuses; main.ts turns it into exit 64 with the usage. */
export class UsageProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageProblem";
  }
}

const FLAGS = {
  force: "force",
  check: "check",
  help: "help",
  h: "help",
  version: "version",
} as const;

/**
 * Parses `args`: one optional command, `--config PATH` (or `--config=PATH`), the flags --force,
 * --check, -h/--help and --version, and `--` ending the options. Throws UsageProblem for anything
 * else: an unknown flag, a value given to a flag, a missing or empty value, a second positional.
 */
export function parseInvocation(args: readonly string[]): Invocation {
  const flags = { force: false, check: false, help: false, version: false };
  let configPath: string | undefined;
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const [name, inlineValue] = splitOnce(arg.slice(long ? 2 : 1), "=");
    if (long && name === "config") {
      const value = inlineValue ?? args[++i];
      if (value === undefined || (inlineValue === undefined && value.startsWith("-"))) {
        throw new UsageProblem("option '--config <value>' argument missing");
      }
      if (value === "") throw new UsageProblem("--config needs a path");
      configPath = value;
      continue;
    }
    const flag = (long ? name.length > 1 : name.length === 1) && Object.hasOwn(FLAGS, name)
      ? FLAGS[name as keyof typeof FLAGS]
      : undefined;
    if (flag === undefined) throw new UsageProblem(`unknown option '${arg}'`);
    if (inlineValue !== undefined) throw new UsageProblem(`option '${arg}' does not take a value`);
    flags[flag] = true;
  }
  const [command = "run", ...rest] = positionals;
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageProblem(`unknown command "${command}"`);
  }
  if (rest.length > 0) throw new UsageProblem(`unexpected argument "${rest[0]}"`);
  if (flags.force && command !== "enroll") throw new UsageProblem("--force goes with enroll only");
  return { command: command as Command, configPath, ...flags };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
