// reference-backend/console/etag.ts: an ETag for each view the page polls, so that polling costs a
// 304 and no body while nothing changed. Pure.

/** A strong ETag for a JSON body: the first 32 hex digits of its SHA-256. */
export async function etagOf(body: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  return `"${new Uint8Array(hash).toHex().slice(0, 32)}"`;
}

/** True when the request's If-None-Match names `etag` (or is `*`). */
export function notModified(request: Request, etag: string): boolean {
  const header = request.headers.get("if-none-match");
  if (header === null) return false;
  return header.trim() === "*" ||
    header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
