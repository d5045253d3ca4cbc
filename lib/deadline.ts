// lib/deadline.ts: the abort signal of one network operation: it fires when the operation's time
// limit passes or when the agent is stopped, and lets go of both once the operation is over; and
// the same for a loop's operations, one after another, sharing one timer and one listener.

/** Arms `fire` to run after `ms`; the function it returns disarms it. */
export type Timer = (ms: number, fire: () => void) => () => void;

/**
 * setTimeout and clearTimeout: a disarmed timer is gone at once. In Deno 2.8+ the global setTimeout
 * is node:timers', whose first use loads the node layer (about 10 ms): the heartbeat loop pays that
 * once for its waits anyway, so its other requests (a token rotation) use this one.
 */
export const clearableTimer: Timer = (ms, fire) => {
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
};

/**
 * Atomics.waitAsync on a cell of its own: a V8 built-in, so no node layer is loaded (enrollment's
 * start-up budget). Disarming wakes the wait at once and frees its JS side, but V8 keeps a record
 * of about 0.6 KiB until `ms` would have passed: for one-off commands and rare calls, not for a
 * loop of back-to-back requests. It does not keep the process alive; the operation it guards does.
 */
export const lightTimer: Timer = (ms, fire) => {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const wait = Atomics.waitAsync(cell, 0, 0, Math.max(0, ms));
  let armed = true;
  const settle = (result: string) => {
    if (armed && result === "timed-out") fire();
  };
  if (wait.async) wait.value.then(settle);
  else queueMicrotask(() => settle(wait.value)); // a 0 ms wait times out at once
  return () => {
    armed = false;
    Atomics.notify(cell, 0);
  };
};

/** An operation's signal; `timedOut` tells a timeout from a stop. Dispose of it when done. */
export interface Deadline extends Disposable {
  readonly signal: AbortSignal;
  timedOut(): boolean;
}

/**
 * A signal aborted after `ms`, or when `stop` aborts. Unlike AbortSignal.any([stop,
 * AbortSignal.timeout(ms)]), disposing of it disarms the timer and removes the listener on `stop`:
 * with the built-ins each request stays referenced by its armed timer until the timer fires, and
 * the agent's lifelong stop signal gains a dependent per request (BENCHMARKS.md, steady state).
 * `timer` defaults to clearableTimer, which also keeps the process alive until the limit; callers
 * guarding an operation of their own at start-up pass lightTimer.
 */
export function deadline(ms: number, stop?: AbortSignal, timer: Timer = clearableTimer): Deadline {
  const controller = new AbortController();
  let expired = false;
  const disarm = timer(ms, () => {
    expired = true;
    controller.abort();
  });
  const onStop = () => controller.abort();
  if (stop?.aborted) controller.abort();
  else stop?.addEventListener("abort", onStop, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => expired,
    [Symbol.dispose]() {
      disarm();
      stop?.removeEventListener("abort", onStop);
    },
  };
}

/** The deadlines of a loop's operations, one at a time; disposing of it lets go of everything. */
export interface LoopDeadlines extends Disposable {
  /** The next operation's Deadline: `ms` from now, or `stop`. Dispose of it when it is over. */
  next(): Deadline;
}

/**
 * Deadlines for a loop of operations one after another, each `ms` long, all ended by `stop` (the
 * heartbeat's requests). A deadline() per request creates a node timer, clears it, and adds and
 * removes a listener on the agent's lifelong stop signal: in a beat run once a second, in V8's
 * interpreter, a profile of the agent beside its floor put that near a third of what the agent's
 * CPU per beat spends beyond the floor's. Here one timer is re-armed with refresh() per operation
 * and one listener on `stop` serves every operation. The timer does not keep the process alive: the
 * operation does.
 */
export function loopDeadlines(ms: number, stop: AbortSignal): LoopDeadlines {
  let current: { readonly controller: AbortController; expired: boolean } | undefined;
  const onStop = () => current?.controller.abort();
  stop.addEventListener("abort", onStop, { once: true });
  // The global setTimeout is node:timers' (clearableTimer, above): its Timeout can be re-armed.
  const timer = setTimeout(() => {
    if (current === undefined) return; // fired between operations
    current.expired = true;
    current.controller.abort();
  }, ms) as unknown as NodeTimeout;
  timer.unref();
  return {
    next() {
      const operation = { controller: new AbortController(), expired: false };
      if (stop.aborted) operation.controller.abort();
      current = operation;
      timer.refresh();
      return {
        signal: operation.controller.signal,
        timedOut: () => operation.expired,
        [Symbol.dispose]() {
          if (current === operation) current = undefined;
        },
      };
    },
    [Symbol.dispose]() {
      clearTimeout(timer as unknown as number);
      stop.removeEventListener("abort", onStop);
      current = undefined;
    },
  };
}

/** What loopDeadlines uses of node's Timeout, which Deno's types do not name. */
interface NodeTimeout {
  refresh(): void;
  unref(): void;
}
