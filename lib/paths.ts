// lib/paths.ts: POSIX path arithmetic for the agent's paths, without node:path: importing it loads
// Deno's node compatibility layer, about 10 ms at every start (BENCHMARKS.md, time-to-enrolled).
// The agent runs on Linux only, so `/` is the only separator. Lexical, like Deno's own check.

/** `path` with `.`, `..` and repeated or trailing slashes resolved lexically, as node:path does. */
export function normalize(path: string): string {
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") parts.push(part);
    else if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else if (!absolute) parts.push("..");
  }
  const body = parts.join("/");
  return absolute ? `/${body}` : body === "" ? "." : body;
}

/** The segments joined with `/` and normalized; empty segments are skipped. */
export function join(...segments: string[]): string {
  const joined = segments.filter((segment) => segment !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/** True for a path that starts at the root. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** The absolute path of the segments, read from the right up to the first absolute one. */
export function resolve(...segments: string[]): string {
  let path = "";
  for (let i = segments.length - 1; i >= 0 && !isAbsolute(path); i--) {
    if (segments[i] !== "") path = path === "" ? segments[i] : `${segments[i]}/${path}`;
  }
  return normalize(isAbsolute(path) ? path : `${Deno.cwd()}/${path}`);
}

/** The directory part of `path`: `/` for the root and its children, `.` for a bare name. */
export function dirname(path: string): string {
  const normal = normalize(path);
  const slash = normal.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : normal.slice(0, slash);
}

/** The last segment of `path` (empty for the root). */
export function basename(path: string): string {
  const normal = normalize(path);
  return normal === "/" ? "" : normal.slice(normal.lastIndexOf("/") + 1);
}
