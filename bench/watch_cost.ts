// bench/watch_cost.ts: the agent's interface read alone (InterfaceWatcher.read,
// lib/host/watcher.ts), timed in its process after a warm-up, for the table beside node_exporter
// and the Python floors. Usage: watch_cost.ts <proc> <sys> <repetitions>; prints {"interfaces": n,
// "samplesMs": [...]}.
import { loadWatcher } from "../lib/host/mod.ts";

const { InterfaceWatcher } = await loadWatcher();

const [proc, sys, repetitionsText] = Deno.args;
using watcher = new InterfaceWatcher({ proc, sys });
const warm = watcher.read([], undefined);
if (warm.degraded) throw new Error(warm.degraded);
const samplesMs: number[] = [];
for (let i = 0; i < Number(repetitionsText); i++) {
  const started = performance.now();
  watcher.read([], undefined);
  samplesMs.push(performance.now() - started);
}
console.log(JSON.stringify({ interfaces: warm.interfaces.length, samplesMs }));
