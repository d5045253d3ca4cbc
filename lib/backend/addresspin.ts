// lib/backend/addresspin.ts: the backend-address pin, the systemd drop-in that
// `install.sh --pin-backend-address` writes (IPAddressDeny=any, IPAddressAllow= the backend's
// addresses then). The kernel enforces it inside the unit; read back (pincheck.ts), it lets
// `status --check` say when the backend has moved off it. Pure: parsing and matching only.

/** Where install.sh writes the pin; the `agent` permission set grants read of this file alone. */
export const PIN_PATH = "/etc/systemd/system/sensor-agent.service.d/backend-address.conf";

/** An address prefix as IPAddressAllow= takes it: 4 or 16 bytes and how many bits count. */
export interface IpPrefix {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

/** What the drop-in allows, and the backend host it was made for (its `# backend:` line). */
export interface AddressPin {
  readonly host?: string;
  readonly denyAll: boolean;
  readonly allowed: readonly IpPrefix[];
}

/** The keywords systemd.resource-control(5) accepts in IPAddressAllow= / IPAddressDeny=. */
const KEYWORDS: Record<string, string[]> = {
  any: ["0.0.0.0/0", "::/0"],
  localhost: ["127.0.0.0/8", "::1/128"],
  "link-local": ["169.254.0.0/16", "fe80::/64"],
  multicast: ["224.0.0.0/4", "ff00::/8"],
};

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    return undefined;
  }
  return Uint8Array.from(parts.map(Number));
}

/** The 16 bytes of IPv6 text: groups, one `::` at most, an IPv4 tail allowed. */
function parseIpv6(text: string): Uint8Array | undefined {
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) =>
    part === ""
      ? []
      : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const given = left.length + right.length + tail.length;
  if (halves.length === 2 && given > 7) return undefined; // `::` stands for one group or more
  const words = halves.length === 2
    ? [...left, ...Array(8 - given).fill(0), ...right, ...tail]
    : [...left, ...tail];
  if (words.length !== 8 || words.some((w) => Number.isNaN(w))) return undefined;
  return new Uint8Array(words.flatMap((w) => [w >> 8, w & 0xff]));
}

/**
 * The bytes of an IPv4 or IPv6 address (brackets and a zone such as `%eth0` ignored): 4 for IPv4
 * and for an IPv4-mapped IPv6 address (on the wire it is IPv4, and the kernel filters it as such),
 * else 16.
 */
export function parseIp(text: string): Uint8Array | undefined {
  const address = text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  if (!address.includes(":")) return parseIpv4(address);
  const bytes = parseIpv6(address);
  const mapped = bytes !== undefined && bytes.subarray(0, 10).every((b) => b === 0) &&
    bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

/** The prefixes of one IPAddressAllow= word: an address, address/bits, or a keyword. */
export function parsePrefixes(word: string): IpPrefix[] | undefined {
  if (Object.hasOwn(KEYWORDS, word)) return KEYWORDS[word].flatMap((w) => parsePrefixes(w)!);
  const [address, bitsText, extra] = word.split("/");
  if (extra !== undefined) return undefined;
  const bytes = address.includes(":") ? parseIpv6(address) : parseIpv4(address);
  if (bytes === undefined) return undefined;
  const bits = bitsText === undefined ? bytes.length * 8 : Number(bitsText);
  if (!/^\d+$/.test(bitsText ?? "0") || bits > bytes.length * 8) return undefined;
  return [{ bytes, bits }];
}

/** True when `address` (from parseIp) lies in `prefix`. */
export function prefixContains(prefix: IpPrefix, address: Uint8Array): boolean {
  if (prefix.bytes.length !== address.length) return false;
  for (let bit = 0; bit < prefix.bits; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((prefix.bytes[bit >> 3] & mask) !== (address[bit >> 3] & mask)) return false;
  }
  return true;
}

/**
 * Reads the drop-in's [Service] IPAddressAllow= and IPAddressDeny= lines as systemd does (words
 * separated by blanks, lines adding up, an empty assignment clearing the list) and its
 * `# backend: <host>` line. Words systemd would ignore are ignored here too.
 */
export function parseAddressPin(text: string): AddressPin {
  let section = "";
  let host: string | undefined;
  let allowed: IpPrefix[] = [];
  let deny: IpPrefix[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const hostLine = /^#\s*backend:\s*(\S+)\s*$/.exec(line);
    if (hostLine) host = hostLine[1];
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      section = line;
      continue;
    }
    const match = /^(IPAddressAllow|IPAddressDeny)\s*=\s*(.*)$/.exec(line);
    if (section !== "[Service]" || !match) continue;
    const words = match[2].split(/\s+/).filter((w) => w !== "");
    const prefixes = words.flatMap((w) => parsePrefixes(w) ?? []);
    if (match[1] === "IPAddressAllow") {
      allowed = words.length === 0 ? [] : [...allowed, ...prefixes];
    } else deny = words.length === 0 ? [] : [...deny, ...prefixes];
  }
  const denyAll = [4, 16].every((size) =>
    deny.some((p) => p.bits === 0 && p.bytes.length === size)
  );
  return { host, denyAll, allowed };
}

/** True when the pin lets the kernel pass traffic to `address`. */
export function pinAllows(pin: AddressPin, address: string): boolean {
  const bytes = parseIp(address);
  if (bytes === undefined) return false;
  return !pin.denyAll || pin.allowed.some((prefix) => prefixContains(prefix, bytes));
}
