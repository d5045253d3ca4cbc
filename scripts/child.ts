// scripts/child.ts: what the demo and the try-out share about the deno processes they start: the
// variables a child deno needs kept, and relaying a child's log lines as they come.

/** What a child deno needs to find its cache and the machine's CAs (the tests keep them too). */
export const KEPT_VARIABLES = [
  "HOME",
  "XDG_CACHE_HOME",
  "DENO_DIR",
  "NPM_CONFIG_REGISTRY",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "DENO_TLS_CA_STORE",
  "DENO_CERT",
] as const;

/** Hands each complete line of `stream` to `show` as it arrives; resolves when the stream ends. */
export async function relayLines(
  stream: ReadableStream<Uint8Array>,
  show: (line: string) => void,
): Promise<void> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (pending + text).split("\n");
    pending = lines.pop()!;
    lines.forEach(show);
  }
  if (pending) show(pending);
}
