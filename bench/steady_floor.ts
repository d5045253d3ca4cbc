// bench/steady_floor.ts: the floor of bench/steady.ts: bench/beat_floor_full.ts's beat (the agent's
// reads, body, headers and reply, nothing else) driven back to back, as steady_child.ts drives the
// agent's loop, with readings after a full collection at the same beats. Its RSS growth is what
// the runtime itself grows by doing the agent's job, the figure the agent's is held to.
// Usage: steady_floor.ts <config> <agentVersion> <beats>; prints one JSON line
// {rssGrowth, cpuMsPerBeat, atFirstMark, atEnd}.
import process from "node:process";
import { floorBeat } from "./beat_floor_full.ts";

const FIRST_MARK = 100;
const [configPath, agentVersion, beatsText] = Deno.args;
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

const beat = floorBeat(configPath, agentVersion);
let atFirstMark: ReturnType<typeof reading> | undefined;
for (let done = 1; done <= beats; done++) {
  await beat();
  if (done === FIRST_MARK) atFirstMark = reading();
}
const atEnd = reading();
console.log(JSON.stringify({
  rssGrowth: (atEnd.rssBytes - atFirstMark!.rssBytes) / atFirstMark!.rssBytes,
  cpuMsPerBeat: (atEnd.cpuMs - atFirstMark!.cpuMs) / (beats - FIRST_MARK),
  atFirstMark,
  atEnd,
}));
