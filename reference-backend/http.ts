// reference-backend/http.ts: the JSON envelope of every reply ({ success, data } or { success,
// error }) and reading a request body with the 1 MiB cap.

/** Request bodies are read up to this many bytes; a larger one gets 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

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
 * The body parsed as JSON, undefined when it is empty. Throws HttpError 413 past MAX_BODY_BYTES
 * (by Content-Length before reading, or while reading) and 400 for text that is not JSON.
 */
export async function readJson(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  if (request.body === null) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    // Leaving the loop cancels the stream: the rest of the body is never read.
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new HttpError(400, "the body is not JSON (UTF-8)");
  }
}

function tooLarge(): HttpError {
  return new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
}
