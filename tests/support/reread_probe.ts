// tests/support/reread_probe.ts: reads one file again and again with readSmallFile, in a child
// process so that a test can pin it to one CPU beside the process that replaces the file. Prints
// one JSON line: the distinct texts read, and the first refusal's message if a read was refused.
// Usage: reread_probe.ts <path> <reads>
import { readSmallFile } from "../../lib/store/mod.ts";

const [path, reads] = Deno.args;
const seen = new Set<string>();
let refused: string | undefined;
for (let i = 0; i < Number(reads) && refused === undefined; i++) {
  try {
    const rules = { role: "secret", maxBytes: 1024, resolved: true } as const;
    seen.add(new TextDecoder().decode(await readSmallFile(path, rules)));
  } catch (error) {
    refused = error instanceof Error ? error.message : String(error);
  }
}
console.log(JSON.stringify({ seen: [...seen], refused }));
