// lib/config/binding.ts: what the saved host binding says of the host the agent runs on
// (docs/configuration.md, SENSOR_HOST_BINDING): the same host, a file not bound yet, a host that
// cannot tell, or a copy of another machine's env file. Pure.
import { AgentError, ExitCode } from "../errors.ts";
import type { Config } from "./resolve.ts";

/** What a saved binding says of this host. */
export type BindingVerdict =
  /** The file was enrolled here. */
  | "this host"
  /** The file holds no binding yet (enrolled before bindings existed): the first beat adds it. */
  | "not saved"
  /** This host has no machine id: it cannot tell its own file from a copy. */
  | "unknown"
  /** The file was enrolled on another machine and copied here. */
  | "another host";

/** Compares the binding saved in the config with this host's (undefined: no machine id). */
export function bindingVerdict(saved: string | undefined, own: string | undefined): BindingVerdict {
  if (saved === undefined) return "not saved";
  if (own === undefined) return "unknown";
  return saved === own ? "this host" : "another host";
}

/**
 * The 78 of a copied env file (docs/configuration.md, Exit codes): nothing is sent with a token
 * that belongs to another machine, whose agent keeps using it.
 */
export function copiedConfigError(config: Config): AgentError {
  return new AgentError(
    ExitCode.config,
    `${config.configPath} was enrolled on another machine (its SENSOR_HOST_BINDING is not this ` +
      "host's): it is a copy, and its sensor token belongs to that machine; nothing was sent",
    "To enroll this host, obtain a new install token and run `enroll --force` with INSTALL_TOKEN " +
      "set, or put it in the file as INSTALL_TOKEN and start the agent: `run` enrolls this host with it",
  );
}
