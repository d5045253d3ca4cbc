// reference-backend/http/envelope.ts: the JSON envelope of every reply ({ success, data } or
// { success, error }) and reading a request body: JSON only, at most 1 MiB however it is framed.

/** Request bodies are read up to this many bytes; a larger one gets 413. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * A body may arrive in at most this many pieces. The runtime hands over each chunk of a chunked
 * body as a piece of its own: 1 MiB in 1-byte chunks would be a million of them, seconds of CPU for
 * one request. Any real sender's pieces average far more than 64 bytes.
 */
export const MAX_BODY_PIECES = 16_384;

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken(request: Request): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(request.headers.get("authorization") ?? "");
  return match?.[1];
}

/**
 * A reply that ends the request early: its status, the reason shown to the client, and what only
 * the backend's log is told (`detail`: why exactly, which token by fingerprint).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: HeadersInit = {},
    readonly detail: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** `{ success: true, data }`. Never cached: some replies carry a token. */
export function ok(data: unknown, status = 200): Response {
  return Response.json({ success: true, data }, {
    status,
    headers: { "Cache-Control": "no-store" },
  });
}

/** `{ success: false, error }`. */
export function failure(error: HttpError): Response {
  return Response.json({ success: false, error: error.message }, {
    status: error.status,
    headers: { "Cache-Control": "no-store", ...error.headers },
  });
}

/**
 * The body parsed as JSON, undefined when there is none. Throws HttpError 413 past MAX_BODY_BYTES
 * (by Content-Length before reading, else while reading: the bytes are counted, not the pieces),
 * 415 for a body that is not declared `application/json`, 400 for text that is not JSON or a body
 * in more than MAX_BODY_PIECES pieces. Memory stays within the cap: pieces are copied into one
 * buffer as they come, never kept.
 */
export async function readJson(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  if (request.body === null || declared === 0) return undefined;
  // A declared length within the cap: the runtime reads exactly that much in one go (it refuses a
  // body that differs from its Content-Length), the fast path of every agent's heartbeat.
  if (Number.isSafeInteger(declared)) {
    requireJson(request);
    return parseJson(new Uint8Array(await request.arrayBuffer()));
  }
  let buffer = new Uint8Array(16 * 1024);
  let size = 0;
  let pieces = 0;
  // Leaving the loop by a throw cancels the stream: the rest of the body is never read.
  for await (const piece of request.body) {
    if (size === 0 && piece.length > 0) requireJson(request); // an empty POST needs no type
    if (size + piece.length > MAX_BODY_BYTES) throw tooLarge();
    if (++pieces > MAX_BODY_PIECES) {
      throw new HttpError(400, `the body came in more than ${MAX_BODY_PIECES} pieces`);
    }
    if (size + piece.length > buffer.length) {
      const grown = new Uint8Array(Math.min(MAX_BODY_BYTES, 2 * (size + piece.length)));
      grown.set(buffer.subarray(0, size));
      buffer = grown;
    }
    buffer.set(piece, size);
    size += piece.length;
  }
  return size === 0 ? undefined : parseJson(buffer.subarray(0, size));
}

function requireJson(request: Request): void {
  const type = request.headers.get("content-type")?.split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError(415, "send the body as JSON, with Content-Type: application/json");
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    throw new HttpError(400, "the body is not JSON (UTF-8)");
  }
}

function tooLarge(): HttpError {
  return new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
}
