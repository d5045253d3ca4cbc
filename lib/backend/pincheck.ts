// lib/backend/pincheck.ts: `status --check`'s look at the backend-address pin (addresspin.ts): does
// the address the backend's name leads to now still lie in what the drop-in lets the service reach?
// From an operator's shell nothing filters the connection, so its far end is compared with the
// pin. Inside the unit the kernel drops the packets instead: the connection times out (measured
// under systemd 252, tests/deploy/unit_runtime_test.ts), which looks like a backend that is down,
// so the check is meant for the shell.
import { type AddressPin, parseAddressPin, PIN_PATH, pinAllows } from "./addresspin.ts";
import { deadline, lightTimer } from "../deadline.ts";
import { describe } from "../errors.ts";
import { readSmallFile } from "../store/mod.ts";

const DIAL_TIMEOUT_MS = 2000;
const ADVICE = "re-run install.sh with --pin-backend-address";

/** One `address pin:` line of the status, and whether it means the service cannot reach the backend. */
export interface PinVerdict {
  readonly line: string;
  readonly broken: boolean;
}

/**
 * The pin at `path`, or undefined when there is none this process may read (missing, or outside
 * the permission set of a build that does not grant it). Read capped, as a regular file only.
 */
export async function readAddressPin(path = PIN_PATH): Promise<AddressPin | undefined> {
  try {
    // A drop-in systemd reads: root's, 0644 like every unit file; judged as a host file.
    const bytes = await readSmallFile(path, { role: "host", maxBytes: 64 * 1024 });
    return parseAddressPin(new TextDecoder().decode(bytes));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotCapable) {
      return undefined;
    }
    throw error;
  }
}

/** The proxy variable Deno's fetch would use for `url`, if one is set. */
function proxyFor(url: URL): string | undefined {
  const names = url.protocol === "https:"
    ? ["HTTPS_PROXY", "https_proxy"]
    : ["HTTP_PROXY", "http_proxy"];
  return names.find((name) => (Deno.env.get(name) ?? "") !== "");
}

/**
 * Judges the pin at `path` against the backend at `url`: undefined when no pin is installed or the
 * backend cannot be reached at all (the HEAD check says so already), else one line.
 */
export async function checkAddressPin(
  url: URL,
  stop?: AbortSignal,
  path = PIN_PATH,
): Promise<PinVerdict | undefined> {
  let pin: AddressPin | undefined;
  try {
    pin = await readAddressPin(path);
  } catch (error) {
    return { line: `address pin: ${path} cannot be read (${describe(error)})`, broken: false };
  }
  if (pin === undefined) return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (pin.host !== undefined && pin.host.toLowerCase() !== host.toLowerCase()) {
    return {
      line: `address pin: ${path} was made for ${pin.host}, but BACKEND_URL names ${host}, ` +
        `which the service cannot reach; ${ADVICE}`,
      broken: true,
    };
  }
  const proxy = proxyFor(url);
  if (proxy !== undefined) {
    return {
      line: `address pin: not checked: requests go through the proxy in ${proxy}`,
      broken: false,
    };
  }
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  using limit = deadline(DIAL_TIMEOUT_MS, stop, lightTimer);
  let address: string;
  try {
    const conn = await Deno.connect({ hostname: host, port, signal: limit.signal });
    address = (conn.remoteAddr as Deno.NetAddr).hostname;
    conn.close();
  } catch {
    return undefined; // down, filtered or refused: the HEAD check has said so already
  }
  if (pinAllows(pin, address)) {
    return { line: `address pin: ${host} is at ${address}, which ${path} allows`, broken: false };
  }
  return {
    line: `address pin: ${host} is now at ${address}, which ${path} does not allow, so the ` +
      `service cannot reach the backend; ${ADVICE}`,
    broken: true,
  };
}
