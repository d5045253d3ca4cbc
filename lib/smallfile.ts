// lib/smallfile.ts: reading the agent's small input files (INSTALL_TOKEN_FILE, BACKEND_CA_FILE, the
// host identity files) without trusting what their paths name, as config.ts reads the env file.
// Only a regular file, after symlinks, is opened: opening a FIFO blocks until a writer comes, and a
// device such as /dev/zero never ends, so reading either hung the agent (deaf to SIGTERM) or filled
// its memory (found by tests/hostile_config_test.ts). At most `maxBytes` are read.

/** A path that names something other than a small regular file. */
export class UnfitFileError extends Error {
  constructor(readonly reason: "not a regular file" | "too large", message: string) {
    super(message);
    this.name = "UnfitFileError";
  }
}

/** `bytes` for a message: "64 KiB", "1 MiB". */
function size(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}

/**
 * The contents of the regular file at `path`, at most `maxBytes` of them. Throws UnfitFileError
 * ("is not a regular file", "is larger than 64 KiB") for what it refuses, and Deno's own errors
 * (NotFound, PermissionDenied...) for what it cannot do.
 */
export async function readSmallFile(path: string, maxBytes: number): Promise<Uint8Array> {
  const info = await Deno.stat(path);
  if (!info.isFile) throw new UnfitFileError("not a regular file", "is not a regular file");
  const tooLarge = () => new UnfitFileError("too large", `is larger than ${size(maxBytes)}`);
  if (info.size > maxBytes) throw tooLarge();
  // Read through one handle, capped: the file may have grown (or been swapped) since the stat, and
  // procfs files say size 0 whatever they hold.
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(Math.min(maxBytes + 1, 64 * 1024));
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) break;
    length += n;
    if (length > maxBytes) throw tooLarge();
    chunks.push(buffer.slice(0, n));
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
