// reference-backend/install.ts: the command an operator pastes on a sensor host to install and
// enroll it (docs/install.md, "The one-liner"). It downloads deploy/install.sh and the systemd unit
// from this backend (GET /install.sh, GET /sensor-agent.service) into the current directory, then
// runs install.sh as root. The install token is in no part of it: install.sh asks for it at a
// hidden prompt, so it is never in the command (which may be shown or logged), in the shell's
// history, or on any process's argv, where every local user could read it in /proc.
import type { AgentBinary } from "./settings.ts";

/** The binary install.sh installs when the backend names none: the operator copies it there. */
export const LOCAL_BINARY = "./sensor-agent";

/**
 * The one-liner for a sensor that should report to `backendUrl` (bash: install.sh is a bash
 * script). With `binary`, install.sh downloads it and checks its SHA-256; without, it installs
 * ./sensor-agent (built with `deno task compile`), which needs no checksum.
 */
export function installCommand(backendUrl: string, binary?: AgentBinary): string {
  const from = (file: string) => `-o ${file} ${shellQuote(`${backendUrl}/${file}`)}`;
  const source = binary === undefined
    ? `--binary ${LOCAL_BINARY}`
    : `--binary ${shellQuote(binary.url)} --sha256 ${shellQuote(binary.sha256)}`;
  return [
    // --fail-early: curl would otherwise report only the last transfer, so a failed install.sh
    // download followed by a good unit download would run whatever install.sh lies here already.
    `curl -fsSL --fail-early ${from("install.sh")} ${from("sensor-agent.service")}`,
    `sudo bash install.sh --backend-url ${shellQuote(backendUrl)} ${source}`,
  ].join(" && ");
}

/** `text` as one bash word: single-quoted, each `'` written as `'\''`. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
