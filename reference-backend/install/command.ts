// reference-backend/install/command.ts: the command an operator pastes on a sensor host to install
// and enroll it (docs/install.md, "The one-liner"). It downloads deploy/install.sh and the systemd
// unit from this backend (GET /install.sh, GET /sensor-agent.service) into the current directory,
// checks both against the SHA-256 digests the backend computed when it started, and only then runs
// install.sh as root: a file swapped on the way (or on a mirror) stops the command before anything
// runs. The install token is in no part of it: install.sh asks for it at a hidden prompt, so it is
// never in the command (which may be shown or logged), in the shell's history, or on any process's
// argv, where every local user could read it in /proc.
import { createHash } from "node:crypto";

/** An agent binary to download, pinned by its SHA-256 (install.sh refuses a URL without one). */
export interface AgentBinary {
  readonly url: string;
  /** 64 lowercase hex digits. */
  readonly sha256: string;
}

/** The binary install.sh installs when the backend names none: the operator copies it there. */
export const LOCAL_BINARY = "./sensor-agent";

/** The files the command downloads, by the name it saves them under, in download order. */
export const INSTALL_FILES = ["install.sh", "sensor-agent.service"] as const;

/** Each downloaded file's SHA-256 (lowercase hex), by its name; a file missing from it fails. */
export type FileDigests = Readonly<Partial<Record<typeof INSTALL_FILES[number], string>>>;

/** What the command says first when the backend runs with DEV_INSECURE_HTTP=1. */
export const INSECURE_NOTICE =
  "DEVELOPMENT ONLY: this backend is plain http; do not install a real sensor with it";

/** The SHA-256 of `bytes` as sha256sum prints it. */
export function fileDigest(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The one-liner for a sensor that should report to `backendUrl` (bash: install.sh is a bash
 * script). It runs install.sh only if it and the unit match `digests`. With `binary`, install.sh
 * downloads it and checks its SHA-256; without, it installs ./sensor-agent (built with `deno task
 * compile`), which needs no checksum. With `sensorId`, install.sh writes it as the sensor's
 * SENSOR_ID (its label). Throws for an http:// URL unless `insecure` (the development flag), and
 * then the command opens by saying it is for development only.
 */
export function installCommand(
  backendUrl: string,
  digests: FileDigests,
  binary?: AgentBinary,
  insecure = false,
  sensorId?: string,
): string {
  if (!backendUrl.startsWith("https://") && !insecure) {
    throw new Error("the install command needs an https:// backend URL (or DEV_INSECURE_HTTP=1)");
  }
  const from = (file: string) => `-o ${file} ${shellQuote(`${backendUrl}/${file}`)}`;
  // sha256sum -c reads "<digest>  <file>" lines; a file without a digest gets a line it refuses.
  const checks = INSTALL_FILES.map((file) => shellQuote(`${digests[file] ?? "unknown"}  ${file}`));
  const source = binary === undefined
    ? `--binary ${LOCAL_BINARY}`
    : `--binary ${shellQuote(binary.url)} --sha256 ${shellQuote(binary.sha256)}`;
  return [
    ...(insecure ? [`echo ${shellQuote(INSECURE_NOTICE)} >&2`] : []),
    // --fail-early: curl would otherwise report only the last transfer, so a failed install.sh
    // download followed by a good unit download would run whatever install.sh lies here already.
    `curl -fsSL --fail-early ${INSTALL_FILES.map(from).join(" ")}`,
    `printf '%s\\n' ${checks.join(" ")} | sha256sum -c -`,
    `sudo bash install.sh --backend-url ${shellQuote(backendUrl)}${
      sensorId === undefined ? "" : ` --sensor-id ${shellQuote(sensorId)}`
    } ${source}`,
  ].join(" && ");
}

/** `text` as one bash word: single-quoted, each `'` written as `'\''`. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
