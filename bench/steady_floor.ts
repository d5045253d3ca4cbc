// bench/steady_floor.ts: the steady-state loop of bench/steady.ts with the least a Deno program can
// do per beat: read <proc>/net/dev, post it with `fetch`, read the reply, no wait. Readings after a
// full collection at the same beats, so that its RSS growth (V8's and the runtime's own growth
// under back-to-back requests) is the floor for the agent's. Usage: steady_floor.ts <url> <proc>
// <beats>; prints one JSON line {rssGrowth, cpuMsPerBeat, atFirstMark, atEnd}.
import process from "node:process";

const FIRST_MARK = 100;
const [url, proc, beatsText] = Deno.args;
const beats = Number(beatsText);

function reading() {
  (globalThis as { gc?: () => void }).gc?.();
  const cpu = process.cpuUsage();
  const memory = Deno.memoryUsage();
  return {
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

let atFirstMark: ReturnType<typeof reading> | undefined;
for (let beat = 1; beat <= beats; beat++) {
  const body = Deno.readFileSync(`${proc}/net/dev`); // sync: no blocking-pool thread per read
  const reply = await fetch(url, { method: "POST", body });
  await reply.text();
  if (beat === FIRST_MARK) atFirstMark = reading();
}
const atEnd = reading();
console.log(JSON.stringify({
  rssGrowth: (atEnd.rssBytes - atFirstMark!.rssBytes) / atFirstMark!.rssBytes,
  cpuMsPerBeat: (atEnd.cpuMs - atFirstMark!.cpuMs) / (beats - FIRST_MARK),
  atFirstMark,
  atEnd,
}));
