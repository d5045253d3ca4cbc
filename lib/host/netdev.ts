// lib/host/netdev.ts: the kernel's text formats the inventory reads (docs/protocol.md, Interfaces),
// parsed without I/O. The string parsers serve one-off reads; the byte scanners serve the
// heartbeat, which reads the same files every beat into reused buffers and should not turn every
// file into strings.

const IFF_UP = 0x1; // include/uapi/linux/if.h
const IFF_LOOPBACK = 0x8;
const RTF_UP = 0x1; // include/uapi/linux/route.h

const COLON = 0x3a;
const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** Byte counters per interface from the text of <proc>/net/dev. */
export function parseNetDev(text: string): Map<string, { bytesRecv: number; bytesSent: number }> {
  const counters = new Map<string, { bytesRecv: number; bytesSent: number }>();
  const bytes = new TextEncoder().encode(text);
  const decoder = new TextDecoder();
  scanNetDev(bytes, bytes.length, (nameStart, nameEnd, bytesRecv, bytesSent) => {
    counters.set(decoder.decode(bytes.subarray(nameStart, nameEnd)), { bytesRecv, bytesSent });
  });
  return counters;
}

/**
 * Calls `row` for each interface row of <proc>/net/dev held in `bytes[0, length)`: where its name
 * lies in `bytes`, and its receive and transmit byte counters. Rows that do not parse (the two
 * header lines, a truncated last line) are skipped. Allocates nothing.
 */
export function scanNetDev(
  bytes: Uint8Array,
  length: number,
  row: (nameStart: number, nameEnd: number, bytesRecv: number, bytesSent: number) => void,
): void {
  let lineStart = 0;
  while (lineStart < length) {
    let lineEnd = bytes.indexOf(NEWLINE, lineStart);
    if (lineEnd < 0 || lineEnd > length) lineEnd = length;
    // The header lines hold no colon, and an interface name cannot (the kernel's dev_valid_name).
    let colon = -1;
    for (let i = lineStart; i < lineEnd; i++) {
      if (bytes[i] === COLON) {
        colon = i;
        break;
      }
    }
    if (colon > 0) scanRow(bytes, lineStart, colon, lineEnd, row);
    lineStart = lineEnd + 1;
  }
}

/**
 * scanNetDev's rows, names and counters, found with the string built-ins instead of a byte loop:
 * for a detection of the interface set, which is rare, and which a process makes first, before V8
 * has compiled the byte loop: V8 interprets that loop then, byte by byte, where split and a regex
 * run natively. The text is decoded one character per byte, so every position is still a byte
 * offset, and a name's bytes are passed as they are. `length` is at most `bytes.length`.
 */
export function scanNetDevText(
  bytes: Uint8Array,
  length: number,
  row: (nameStart: number, nameEnd: number, bytesRecv: number, bytesSent: number) => void,
): void {
  const text = BYTE_PER_CHARACTER.decode(bytes.subarray(0, length));
  let lineStart = 0;
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    const columns = colon < 0 ? null : SIXTEEN_COUNTERS.exec(line.slice(colon + 1));
    if (columns !== null) {
      // Trimmed as scanRow trims, by hand: a regex anchored at the end backtracks over every blank
      // of a hostile line.
      let nameStart = 0;
      while (nameStart < colon && isBlank(line.charCodeAt(nameStart))) nameStart++;
      let nameEnd = colon;
      while (nameEnd > nameStart && isBlank(line.charCodeAt(nameEnd - 1))) nameEnd--;
      if (nameEnd > nameStart) {
        const counters = columns[0].match(DIGIT_RUNS)!;
        row(lineStart + nameStart, lineStart + nameEnd, decimal(counters[0]), decimal(counters[8]));
      }
    }
    lineStart += line.length + 1;
  }
}

/** windows-1252 (WHATWG's "latin1"): each byte one UTF-16 unit, ASCII as itself. */
const BYTE_PER_CHARACTER = new TextDecoder("latin1");
/** The first 16 columns after the colon, each digits alone between blanks (scanRow's rule). */
const SIXTEEN_COUNTERS = /^(?:[ \t]*[0-9]+(?![^ \t])){16}/;
const DIGIT_RUNS = /[0-9]+/g;

/** Decimal digits summed as scanRow sums them, so that both give the very same number. */
function decimal(digits: string): number {
  let value = 0;
  for (let i = 0; i < digits.length; i++) value = value * 10 + (digits.charCodeAt(i) - DIGIT_0);
  return value;
}

/** One row: 8 receive columns then 8 transmit columns, bytes first in each. */
function scanRow(
  bytes: Uint8Array,
  lineStart: number,
  colon: number,
  lineEnd: number,
  row: (nameStart: number, nameEnd: number, bytesRecv: number, bytesSent: number) => void,
): void {
  let nameStart = lineStart;
  while (nameStart < colon && isBlank(bytes[nameStart])) nameStart++;
  let nameEnd = colon;
  while (nameEnd > nameStart && isBlank(bytes[nameEnd - 1])) nameEnd--;
  if (nameEnd === nameStart) return;
  let column = 0;
  let bytesRecv = 0;
  let bytesSent = 0;
  let i = colon + 1;
  while (i < lineEnd && column < 16) {
    while (i < lineEnd && isBlank(bytes[i])) i++;
    if (i >= lineEnd) break;
    // Decimal digits summed as a number: exact below 2^53 (section 5), which a real counter will
    // not pass in the agent's lifetime.
    let value = 0;
    const start = i;
    while (i < lineEnd && bytes[i] >= DIGIT_0 && bytes[i] <= DIGIT_9) {
      value = value * 10 + (bytes[i] - DIGIT_0);
      i++;
    }
    if (i === start || (i < lineEnd && !isBlank(bytes[i]))) return; // not a number: not a row
    if (column === 0) bytesRecv = value;
    if (column === 8) bytesSent = value;
    column++;
  }
  if (column === 16) row(nameStart, nameEnd, bytesRecv, bytesSent);
}

function isBlank(byte: number): boolean {
  return byte === SPACE || byte === TAB;
}

/** IFF_UP (0x1) and IFF_LOOPBACK (0x8) from the text of <sys>/class/net/<if>/flags ("0x1003\n"). */
export function parseFlags(text: string): { isUp: boolean; isLoopback: boolean } {
  const bytes = new TextEncoder().encode(text);
  return flagBits(scanFlags(bytes, bytes.length));
}

/** The up and loopback bits of a flags value from scanFlags; both false for -1 (unreadable). */
export function flagBits(flags: number): { isUp: boolean; isLoopback: boolean } {
  return { isUp: isUpFlag(flags), isLoopback: isLoopbackFlag(flags) };
}

/** IFF_UP of a flags value from scanFlags; false for -1. No object: the heartbeat asks per interface. */
export function isUpFlag(flags: number): boolean {
  return flags >= 0 && (flags & IFF_UP) !== 0;
}

/** IFF_LOOPBACK of a flags value from scanFlags; false for -1. */
export function isLoopbackFlag(flags: number): boolean {
  return flags >= 0 && (flags & IFF_LOOPBACK) !== 0;
}

/**
 * The flags word in `bytes[0, length)`, as the kernel writes it ("%#x": "0x1003\n", or "0"), or -1
 * when it is not such a number. Allocates nothing.
 */
export function scanFlags(bytes: Uint8Array, length: number): number {
  let i = 0;
  while (i < length && isBlank(bytes[i])) i++;
  let end = length;
  while (end > i && (isBlank(bytes[end - 1]) || bytes[end - 1] === NEWLINE)) end--;
  if (end - i >= 2 && bytes[i] === DIGIT_0 && (bytes[i + 1] | 0x20) === 0x78) { // 0x or 0X
    i += 2;
    if (i === end) return -1;
    let value = 0;
    for (; i < end; i++) {
      const digit = hexDigit(bytes[i]);
      if (digit < 0) return -1;
      value = value * 16 + digit;
    }
    return value;
  }
  if (i === end) return -1;
  let value = 0;
  for (; i < end; i++) {
    if (bytes[i] < DIGIT_0 || bytes[i] > DIGIT_9) return -1;
    value = value * 10 + (bytes[i] - DIGIT_0);
  }
  return value;
}

function hexDigit(byte: number): number {
  if (byte >= DIGIT_0 && byte <= DIGIT_9) return byte - DIGIT_0;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1; // a-f
}

/** The interface of the default IPv4 route in the text of <proc>/net/route (Destination 00000000, lowest Metric among them, RTF_UP set), or undefined. */
export function parseDefaultRouteInterface(text: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of text.split("\n").slice(1)) { // the first line is the header
    const [iface, destination, , flags, , , metric, mask] = line.trim().split(/\s+/);
    // Mask 00000000 too: destination 0.0.0.0 with another mask (0.0.0.0/8) is not a default route.
    if (destination !== "00000000" || mask !== "00000000") continue;
    if ((Number.parseInt(flags, 16) & RTF_UP) === 0) continue;
    const routeMetric = Number(metric);
    if (!Number.isInteger(routeMetric)) continue;
    if (best === undefined || routeMetric < best.metric) best = { iface, metric: routeMetric };
  }
  return best?.iface;
}
