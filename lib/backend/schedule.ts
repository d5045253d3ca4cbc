// lib/backend/schedule.ts: when the next heartbeat goes (docs/protocol.md), as a pure function of
// the state, the clock and a random source, so it can be tested without sleeping and simulated for
// a fleet.

/** What the schedule remembers between beats. */
export interface ScheduleState {
  /** The interval the backend asked for, in seconds. */
  readonly intervalSeconds: number;
  /** Transient failures in a row since the last success. */
  readonly failures: number;
}

/** How a beat ended, as far as scheduling cares. */
export type BeatOutcome =
  | { readonly kind: "ok"; readonly intervalSeconds?: number }
  | { readonly kind: "throttled"; readonly retryAfterSeconds: number }
  | { readonly kind: "failed" };

/** The next state and how long to wait before the next beat. */
export interface Step {
  readonly state: ScheduleState;
  readonly delayMs: number;
}

/** Retry-After is honoured up to this long; a backend cannot park a fleet for a day. */
export const MAX_RETRY_AFTER_SECONDS = 3600;
/** Backoff never caps below this, however short the interval. */
export const MIN_BACKOFF_CAP_SECONDS = 300;

/** The state of an agent that has not beaten yet. */
export function initialSchedule(intervalSeconds: number): ScheduleState {
  return { intervalSeconds, failures: 0 };
}

/**
 * Advances the schedule after a beat. `random` returns values in [0, 1).
 * - ok: failures reset, the interval may change; wait interval x U[0.9, 1.1] so that a fleet
 *   restarted together drifts apart instead of beating in step.
 * - failed: the n-th failure in a row waits U[0, min(cap, interval x 2^n)], cap = max(300 s,
 *   interval) (full jitter: retries of a fleet spread over the whole window).
 * - throttled (429/503 with Retry-After): as failed, but never less than Retry-After (at most 1 h).
 */
export function nextStep(state: ScheduleState, outcome: BeatOutcome, random: () => number): Step {
  if (outcome.kind === "ok") {
    const intervalSeconds = outcome.intervalSeconds ?? state.intervalSeconds;
    return {
      state: { intervalSeconds, failures: 0 },
      delayMs: intervalSeconds * 1000 * (0.9 + 0.2 * random()),
    };
  }
  const failures = state.failures + 1;
  const backoffMs = backoffCeilingMs(state.intervalSeconds, failures) * random();
  const floorMs = outcome.kind === "throttled"
    ? Math.min(Math.max(outcome.retryAfterSeconds, 0), MAX_RETRY_AFTER_SECONDS) * 1000
    : 0;
  return { state: { ...state, failures }, delayMs: Math.max(backoffMs, floorMs) };
}

/** The upper bound of the n-th failure's wait: min(max(300 s, interval), interval x 2^n), in ms. */
export function backoffCeilingMs(intervalSeconds: number, failures: number): number {
  const capSeconds = Math.max(MIN_BACKOFF_CAP_SECONDS, intervalSeconds);
  // 2^n overflows to Infinity for large n, which min() then caps: no special case needed.
  return Math.min(capSeconds, intervalSeconds * 2 ** failures) * 1000;
}

/**
 * Seconds to wait from a Retry-After header: delay-seconds or an HTTP date relative to `nowMs`.
 * Undefined when absent or unparsable, so the caller falls back to plain backoff.
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}
