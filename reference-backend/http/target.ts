// reference-backend/http/target.ts: the path a request names, as the routes see it. Deno.serve
// hands a handler `request.url` built from the Host header and the raw request target, unchecked:
// the URL parser then reads `%2e%2e` and `\` as `..` and `/`, so
// `/api/sensors/enroll/%2e%2e/%2e%2e/sensors` and `/api\sensors` become `/api/sensors`, and a Host
// of `x/api` moves the path itself. A proxy that judged the raw path (a rate limit on enroll, an
// allow-list for admin routes) would then disagree with the backend about which route a request
// reached. So the backend routes only a plain path, one every parser reads the same way, and
// refuses anything else with 400. Pure.
import { HttpError } from "./envelope.ts";

// A host name, an IPv4 address or a bracketed IPv6 address, with an optional port: nothing that
// could end the authority early (`/`, `?`, `#`, `@`, `\`).
const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
// Unreserved characters only (RFC 3986): no percent-escape to decode, no separator to reinterpret.
const SEGMENT = /^[A-Za-z0-9._~-]+$/;

/**
 * The path of `request`'s target, without the query. Throws HttpError 400 when the Host header is
 * not a plain host, or the path is not plain: a segment that is empty (`//`) or only dots, a
 * percent-escape, a backslash or any character outside RFC 3986's unreserved set. A trailing `/`
 * is kept (`/console/`).
 */
export function requestPath(request: Request): string {
  const url = request.url;
  const start = url.indexOf("://") + 3;
  const host = request.headers.get("host");
  let target: string;
  if (host !== null) {
    // The URL is scheme://<Host header><target> unless the target was absolute (`GET http://x/`):
    // then it does not start with the Host header, and the request is refused.
    if (!HOST.test(host) || !url.startsWith(host, start)) throw badRequest("Host");
    target = url.slice(start + host.length);
  } else {
    // HTTP/1.0 without Host (the runtime names itself), or a Request made in process (the console).
    const slash = url.indexOf("/", start);
    if (slash < 0 || !HOST.test(url.slice(start, slash))) throw badRequest("Host");
    target = url.slice(slash);
  }
  const query = target.indexOf("?");
  const path = query < 0 ? target : target.slice(0, query);
  if (!isPlainPath(path)) throw badRequest("path");
  return path;
}

/** True for `/` and `/a/b.c` (and `/a/`): segments of unreserved characters, none only dots. */
export function isPlainPath(path: string): boolean {
  if (!path.startsWith("/")) return false;
  const segments = path.slice(1).split("/");
  return segments.every((segment, i) =>
    (segment === "" && i === segments.length - 1) ||
    (SEGMENT.test(segment) && !/^\.+$/.test(segment))
  );
}

function badRequest(what: "Host" | "path"): HttpError {
  return new HttpError(
    400,
    what === "Host"
      ? "the Host header must be a plain host name or address, with an optional port"
      : "the path must be plain: letters, digits and . _ ~ - between single slashes, " +
        "no dot segments, percent-escapes or backslashes",
  );
}
