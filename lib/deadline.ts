// lib/deadline.ts: the abort signal of one network operation: it fires when the operation's time
// limit passes or when the agent is stopped, and lets go of both once the operation is over.

/** An operation's signal; `timedOut` tells a timeout from a stop. Dispose of it when done. */
export interface Deadline extends Disposable {
  readonly signal: AbortSignal;
  timedOut(): boolean;
}

/**
 * A signal aborted after `ms`, or when `stop` aborts. Unlike AbortSignal.any([stop,
 * AbortSignal.timeout(ms)]), disposing of it clears the timer and the listener on `stop`: with the
 * built-ins each request stays referenced by its armed timer until the timer fires, and the agent's
 * lifelong stop signal gains a dependent per request (BENCHMARKS.md, steady state).
 */
export function deadline(ms: number, stop?: AbortSignal): Deadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort();
  }, ms);
  const onStop = () => controller.abort();
  if (stop?.aborted) controller.abort();
  else stop?.addEventListener("abort", onStop, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => expired,
    [Symbol.dispose]() {
      clearTimeout(timer);
      stop?.removeEventListener("abort", onStop);
    },
  };
}
