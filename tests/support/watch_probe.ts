// tests/support/watch_probe.ts: an InterfaceWatcher kept for a test's whole life, in a child
// process (inside a network namespace, where the test itself cannot be). Each line on stdin is a
// beat: it prints that beat's inventory as one JSON line. Usage: watch_probe.ts <proc> <sys>
import { loadWatcher } from "../../lib/host/mod.ts";

const { InterfaceWatcher } = await loadWatcher();

const [proc, sys] = Deno.args;
using watcher = new InterfaceWatcher({ proc, sys });
let pending = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  pending += chunk;
  for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
    pending = pending.slice(end + 1);
    console.log(JSON.stringify(watcher.read([], undefined)));
  }
}
