// lib/commands/status.ts: `status`, what an operator asks first: is this sensor enrolled, with
// which backend and config file, and (with --check) does the backend answer and does the address
// pin still hold. Writes nothing and sends no token.
import { bindingVerdict, type Config } from "../config/mod.ts";
import { describe, ExitCode } from "../errors.ts";
import { capText, escapeText, MAX_FIELD_CHARS } from "../log.ts";
import { fingerprint, redact } from "../secrets.ts";
import { statOrUndefined } from "../store/mod.ts";
import type { CommandContext } from "./context.ts";

/**
 * `status`: whether the sensor is enrolled (a copy of another machine's env file is not), its
 * token's fingerprint, what its host binding says, the backend and the config file's mode and
 * owner; with `check`, whether the backend answers an unauthenticated HEAD and,
 * where install.sh pinned the backend's addresses, whether the pin still holds its address. Sends
 * no token. Exits 0 enrolled (and answered), 1 not enrolled, 69 no answer or a pin that no longer
 * lets the service reach the backend. Every line is printed as the log prints text from outside.
 */
export async function statusCommand(ctx: CommandContext, check: boolean): Promise<ExitCode> {
  const { config } = ctx;
  const info = statOrUndefined(config.configPath);
  const lines = [
    `config: ${config.configPath}` +
    (info
      ? ` (mode ${
        (info.mode! & 0o7777).toString(8).padStart(4, "0")
      }, owner ${info.uid}:${info.gid})`
      : " (missing)"),
    `backend: ${config.backendUrl?.href ?? "not set"}`,
    ...await enrollmentLines(config),
  ];
  let code: ExitCode = lines.some((line) => line.startsWith("enrolled: no"))
    ? ExitCode.notEnrolled
    : ExitCode.ok;
  if (check) {
    // The backend's modules load only for --check: a plain status sends nothing.
    const { backendFor, checkAddressPin, HEARTBEAT_PATH, request, TransportError } = await import(
      "../backend/mod.ts"
    );
    const backend = await backendFor(config);
    try {
      const reply = await request(backend, "HEAD", HEARTBEAT_PATH, { signal: ctx.signal });
      lines.push(`backend check: answered HTTP ${reply.status}`);
    } catch (error) {
      const hint = error instanceof TransportError && error.kind === "tls"
        ? "; set BACKEND_CA_FILE to the CA that signed the backend's certificate"
        : "";
      const reason = capText(describe(error), MAX_FIELD_CHARS);
      lines.push(`backend check: no answer (${reason}${hint})`);
      code = ExitCode.unavailable;
    } finally {
      backend.client?.close();
    }
    const pin = await checkAddressPin(backend.url, ctx.signal);
    if (pin !== undefined) lines.push(pin.line);
    if (pin?.broken) code = ExitCode.unavailable;
  }
  console.log(lines.map((line) => escapeText(redact(line))).join("\n"));
  return code;
}

/** Whether this host is enrolled, and what the saved host binding says of it. */
async function enrollmentLines(config: Config): Promise<string[]> {
  if (config.sensorToken === undefined) return ["enrolled: no"];
  const token = `sensor token sha256:${fingerprint(config.sensorToken)}`;
  // host/ is loaded only here: a status without a token has no binding to judge.
  const { readHostBinding } = await import("../host/mod.ts");
  switch (bindingVerdict(config.hostBinding, await readHostBinding(config.machineIdFile))) {
    case "another host":
      return [
        `enrolled: no: the file holds another machine's ${token} (its SENSOR_HOST_BINDING is not ` +
        "this host's: a copy); `run` refuses it until this host enrolls with an install token of its own",
      ];
    case "this host":
      return [`enrolled: yes (${token})`, "host binding: this host's"];
    case "not saved":
      return [
        `enrolled: yes (${token})`,
        "host binding: not saved yet (added at the next accepted heartbeat)",
      ];
    default:
      return [`enrolled: yes (${token})`, "host binding: cannot be checked: no machine id"];
  }
}
