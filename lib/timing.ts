// lib/timing.ts: where a command's time goes, for whoever wants to make it faster. Each step marks
// the clock as it ends; at LOG_LEVEL=debug the command's last line lists them, in ms since the
// runtime started the program (performance.now()'s origin: the runtime's own start-up before it
// is not on this clock). A mark is a push of two values, so the marks stay in at every level.

const steps: string[] = [];
const times: number[] = [];

/**
 * Notes that `step` ended now, the first time only: a step inside the heartbeat loop (the
 * interfaces read) would otherwise add two values a beat for the agent's whole life.
 */
export function mark(step: string): void {
  if (steps.includes(step)) return;
  steps.push(step);
  times.push(performance.now());
}

/** Every mark so far as `step: ms` fields, in the order they were made, rounded to 0.1 ms. */
export function timingFields(): Record<string, number> {
  const fields: Record<string, number> = {};
  steps.forEach((step, i) => fields[step] = Math.round(times[i] * 10) / 10);
  return fields;
}
