// bench/steady_child.ts: the measured child of the steady-state bench (bench/steady.ts). Runs under
// the agent's permission set (bench/support.ts agentFlags), loads its config as the agent does,
// drives the real heartbeat loop with its wait returning at once, reads RSS and CPU after a full
// garbage collection at the marks, and prints one JSON line. It loads bench/steady.ts, as the child
// always did, so the figures count the same modules.
import process from "node:process";
import { backendFor, runHeartbeats } from "../lib/backend/mod.ts";
import { loadConfig } from "../lib/config/mod.ts";
import { collectSnapshot } from "../lib/host/mod.ts";
import { setLogOptions } from "../lib/log.ts";
import {
  type Reading,
  STEADY_FIRST_MARK,
  STEADY_INTERFACES,
  STEADY_MIDDLE_MARKS,
  type SteadyResult,
} from "./steady.ts";

/** CPU spent in the forced collections, taken out of the readings. */
let gcCpuMs = 0;

function reading(started: number): Reading {
  // The child runs with --expose-gc for this call only; the GC's CPU falls outside the beats.
  const cpuBefore = process.cpuUsage();
  (globalThis as { gc?: () => void }).gc?.();
  const gcCpu = process.cpuUsage(cpuBefore);
  gcCpuMs += (gcCpu.user + gcCpu.system) / 1000;
  const cpu = process.cpuUsage();
  const memory = Deno.memoryUsage();
  return {
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
    cpuMs: (cpu.user + cpu.system) / 1000 - gcCpuMs,
    wallMs: performance.now() - started,
  };
}

if (import.meta.main) {
  const [configPath, beatsText, budgetText] = Deno.args;
  const maxBeats = Number(beatsText);
  const config = await loadConfig(configPath);
  if (config.sensorToken === undefined) throw new Error("the steady config holds no SENSOR_TOKEN");
  const backend = await backendFor(config);
  const started = performance.now();
  let waits = 0;
  let failedBeats = 0;
  const warnings: string[] = [];
  setLogOptions({ level: "warn", write: (line) => warnings.push(line) });
  let atFirstMark: Reading | undefined;
  const between: SteadyResult["between"] = [];
  const stop = new AbortController();
  const budget = setTimeout(() => stop.abort(), Number(budgetText) * 1000);
  await runHeartbeats({
    backend,
    sensorToken: config.sensorToken,
    sensorLabel: config.sensorId,
    intervalSeconds: 30,
    snapshot: async (signal) => {
      const snapshot = await collectSnapshot(config, signal);
      if (snapshot.interfaces.length !== STEADY_INTERFACES) {
        throw new Error(`the snapshot holds ${snapshot.interfaces.length} interfaces`);
      }
      return snapshot;
    },
    signal: stop.signal,
    // The loop calls wait once per beat but the last, after judging the reply. A success waits
    // interval x [0.9, 1.1] >= 27 s; a failure's backoff is drawn from [0, 60 s], mostly shorter.
    wait: (delayMs) => {
      waits++;
      if (delayMs < 27_000) failedBeats++;
      if (waits === STEADY_FIRST_MARK) atFirstMark = reading(started);
      if (STEADY_MIDDLE_MARKS.includes(waits) && waits < maxBeats) {
        between.push({ beat: waits, reading: reading(started) });
      }
      return Promise.resolve();
    },
    maxBeats,
  });
  clearTimeout(budget);
  // Every beat but the last is followed by a wait; a beat cut short by the budget counts too.
  const beats = stop.signal.aborted ? waits : waits + 1;
  const atEnd = reading(started);
  const measured = beats - STEADY_FIRST_MARK;
  const result: SteadyResult = {
    interfaces: STEADY_INTERFACES,
    requestedBeats: maxBeats,
    beats,
    atFirstMark: atFirstMark!,
    between,
    atEnd,
    failedBeats,
    warnings,
    rssGrowth: (atEnd.rssBytes - atFirstMark!.rssBytes) / atFirstMark!.rssBytes,
    cpuMsPerBeat: (atEnd.cpuMs - atFirstMark!.cpuMs) / measured,
    wallMsPerBeat: (atEnd.wallMs - atFirstMark!.wallMs) / measured,
  };
  console.log(JSON.stringify(result));
}
