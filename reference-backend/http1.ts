// reference-backend/http1.ts: the HTTP/1.1 wire format of the backend's own server (RFC 9112):
// finding and parsing a request head, and writing a response head. Pure. Deno.serve is not used
// because it has no deadline for request headers, no connection cap and no say over accept errors
// (listener.ts). Strict wherever leniency would let one request be read two ways (request
// smuggling): no bare LF, no folded lines, no space before a colon, Transfer-Encoding and
// Content-Length never together.

/** A request head larger than this gets 431 and the connection is closed. */
export const MAX_HEAD_BYTES = 16 * 1024;

/** How the request's body is framed. */
export type BodyFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" };

/** A parsed request head. */
export interface RequestHead {
  readonly method: string;
  /** The origin-form target: a path with an optional query. */
  readonly target: string;
  readonly headers: Headers;
  readonly body: BodyFraming;
  /** False for HTTP/1.0 without keep-alive and for `Connection: close`. */
  readonly keepAlive: boolean;
  /** `Expect: 100-continue`: the client waits for a 100 before it sends the body. */
  readonly expectContinue: boolean;
}

/** A head the server cannot take: the status to answer with (then it closes the connection). */
export class MalformedRequest extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const CRLF_CRLF = [13, 10, 13, 10];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// A request target is visible ASCII (RFC 3986); Request's URL parser would silently drop a tab or a
// bare LF that a proxy in front may have read otherwise.
const TARGET = /^\/[\x21-\x7e]*$/;
// Controls other than HTAB are no part of a field value (RFC 9110, 5.5). Only SP and HTAB are
// trimmed: String.prototype.trim also drops \v, \f and \xA0, so `Transfer-Encoding: \vchunked`
// would be chunked here and not to a proxy that reads the value as it is: a desync.
// deno-lint-ignore no-control-regex
const FIELD_CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * The index just past the blank line that ends a head in `bytes`, or -1 while there is none.
 * `from` is where the previous search stopped, so a head arriving byte by byte is scanned once.
 */
export function headEnd(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(0, from - 3); i + 3 < bytes.length; i++) {
    if (
      bytes[i] === CRLF_CRLF[0] && bytes[i + 1] === CRLF_CRLF[1] &&
      bytes[i + 2] === CRLF_CRLF[2] && bytes[i + 3] === CRLF_CRLF[3]
    ) {
      return i + 4;
    }
  }
  return -1;
}

/** Parses a complete head (blank line included); throws MalformedRequest naming what is wrong. */
export function parseHead(bytes: Uint8Array): RequestHead {
  // Header bytes are Latin-1 on the wire; each byte becomes one UTF-16 unit.
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 4096)));
  }
  const lines = text.slice(0, -4).split("\r\n");
  const start = /^([^ ]+) ([^ ]+) HTTP\/1\.([01])$/.exec(lines[0]);
  if (start === null || !TOKEN.test(start[1])) {
    throw new MalformedRequest(400, "malformed request line");
  }
  const [, method, target, minor] = start;
  if (!TARGET.test(target)) throw new MalformedRequest(400, "the target must be a path");
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    if (/[\r\n]/.test(line)) throw new MalformedRequest(400, "a bare CR or LF in the head");
    const colon = line.indexOf(":");
    // A line starting with whitespace is an obsolete fold; a name with a space is refused too.
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) {
      throw new MalformedRequest(400, "malformed header line");
    }
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (FIELD_CONTROL.test(value)) throw new MalformedRequest(400, "a control byte in a header");
    try {
      headers.append(line.slice(0, colon), value);
    } catch {
      throw new MalformedRequest(400, "malformed header value");
    }
  }
  const connection = (headers.get("connection") ?? "").toLowerCase().split(/\s*,\s*/);
  const keepAlive = minor === "1"
    ? !connection.includes("close")
    : connection.includes("keep-alive");
  return {
    method,
    target,
    headers,
    body: framing(headers, minor === "1"),
    keepAlive,
    expectContinue: minor === "1" &&
      (headers.get("expect") ?? "").toLowerCase() === "100-continue",
  };
}

function framing(headers: Headers, http11: boolean): BodyFraming {
  const transfer = headers.get("transfer-encoding");
  const length = headers.get("content-length");
  if (transfer !== null) {
    if (!http11 || length !== null) {
      throw new MalformedRequest(400, "Transfer-Encoding with Content-Length, or in HTTP/1.0");
    }
    if (transfer.toLowerCase() !== "chunked") {
      throw new MalformedRequest(501, "only the chunked transfer coding is supported");
    }
    return { kind: "chunked" };
  }
  if (length === null) return { kind: "none" };
  // Headers joins repeated fields with ", ": equal repeats are one length, others are refused.
  const values = new Set(length.split(/\s*,\s*/));
  const [only] = values;
  if (values.size !== 1 || !/^\d{1,15}$/.test(only)) {
    throw new MalformedRequest(400, "malformed Content-Length");
  }
  const value = Number(only);
  return value === 0 ? { kind: "none" } : { kind: "length", length: value };
}

const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

/**
 * The status line and headers of a response with a body of `contentLength` bytes, ending in the
 * blank line. `close` adds `Connection: close`. Header values come from a Headers object, which
 * refuses CR and LF, so a value cannot add a line.
 */
export function responseHead(
  status: number,
  headers: Headers,
  contentLength: number,
  close: boolean,
): Uint8Array {
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n`;
  for (const [name, value] of headers) {
    if (name === "content-length" || name === "connection" || name === "transfer-encoding") {
      continue;
    }
    head += `${name}: ${value}\r\n`;
  }
  head += `content-length: ${contentLength}\r\n`;
  if (!headers.has("date")) head += `date: ${new Date().toUTCString()}\r\n`;
  if (close) head += "connection: close\r\n";
  return new TextEncoder().encode(head + "\r\n");
}

/** The interim answer to `Expect: 100-continue`. */
export const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
