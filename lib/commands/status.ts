// lib/commands/status.ts: `status`, what an operator asks first: is this sensor enrolled, with
// which backend and config file, and (with --check) does the backend answer and does the address
// pin still hold. Writes nothing and sends no token.
import {
  backendFor,
  checkAddressPin,
  HEARTBEAT_PATH,
  request,
  TransportError,
} from "../backend/mod.ts";
import { describe, ExitCode } from "../errors.ts";
import { capText, escapeText, MAX_FIELD_CHARS } from "../log.ts";
import { fingerprint, redact } from "../secrets.ts";
import type { CommandContext } from "./context.ts";

/**
 * `status`: whether the sensor is enrolled, its token's fingerprint, the backend and the config
 * file's mode and owner; with `check`, whether the backend answers an unauthenticated HEAD and,
 * where install.sh pinned the backend's addresses, whether the pin still holds its address. Sends
 * no token. Exits 0 enrolled (and answered), 1 not enrolled, 69 no answer or a pin that no longer
 * lets the service reach the backend. Every line is printed as the log prints text from outside.
 */
export async function statusCommand(ctx: CommandContext, check: boolean): Promise<ExitCode> {
  const { config } = ctx;
  const info = await Deno.stat(config.configPath).catch(() => undefined);
  const lines = [
    `config: ${config.configPath}` +
    (info
      ? ` (mode ${
        (info.mode! & 0o7777).toString(8).padStart(4, "0")
      }, owner ${info.uid}:${info.gid})`
      : " (missing)"),
    `backend: ${config.backendUrl?.href ?? "not set"}`,
    config.sensorToken === undefined
      ? "enrolled: no"
      : `enrolled: yes (sensor token sha256:${fingerprint(config.sensorToken)})`,
  ];
  let code: ExitCode = config.sensorToken === undefined ? ExitCode.notEnrolled : ExitCode.ok;
  if (check) {
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
