// The heartbeat schedule as a pure function (docs/protocol.md): bounds, reset on success, the
// Retry-After floor and its cap, checked over generated states and random draws.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  backoffCeilingMs,
  initialSchedule,
  MAX_RETRY_AFTER_SECONDS,
  nextStep,
  parseRetryAfter,
  type ScheduleState,
} from "../../lib/backend/schedule.ts";

const state = fc.record({
  intervalSeconds: fc.integer({ min: 1, max: 86_400 }),
  failures: fc.integer({ min: 0, max: 200 }),
});
const draw = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const fixed = (value: number) => () => value;

Deno.test("schedule: a success waits the interval times a factor in [0.9, 1.1]", () => {
  fc.assert(fc.property(state, draw, (s, r) => {
    const { delayMs } = nextStep(s, { kind: "ok" }, fixed(r));
    const ulp = 1e-6; // 0.9 + 0.2 * r is computed in floating point
    return delayMs >= s.intervalSeconds * 900 - ulp && delayMs <= s.intervalSeconds * 1100 + ulp;
  }));
});

Deno.test("schedule: a success resets the failure count", () => {
  fc.assert(
    fc.property(state, (s) => nextStep(s, { kind: "ok" }, Math.random).state.failures === 0),
  );
});

Deno.test("schedule: a success with a new interval adopts it", () => {
  const step = nextStep(initialSchedule(30), { kind: "ok", intervalSeconds: 5 }, fixed(0.5));
  assert.equal(step.state.intervalSeconds, 5);
  assert.equal(step.delayMs, 5000);
});

Deno.test("schedule: the n-th failure waits within [0, min(max(300 s, interval), interval x 2^n)]", () => {
  fc.assert(fc.property(state, draw, (s, r) => {
    const step = nextStep(s, { kind: "failed" }, fixed(r));
    const n = s.failures + 1;
    const ceiling = Math.min(Math.max(300, s.intervalSeconds), s.intervalSeconds * 2 ** n) * 1000;
    return step.state.failures === n && step.delayMs >= 0 && step.delayMs <= ceiling;
  }));
});

Deno.test("schedule: full jitter spans the whole window, from 0 to the ceiling", () => {
  const s: ScheduleState = { intervalSeconds: 30, failures: 2 };
  assert.equal(nextStep(s, { kind: "failed" }, fixed(0)).delayMs, 0);
  assert.equal(nextStep(s, { kind: "failed" }, fixed(0.999999)).delayMs, 240_000 * 0.999999);
});

Deno.test("schedule: the backoff ceiling doubles, then stops at max(300 s, interval)", () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffCeilingMs(30, n)), [
    60_000,
    120_000,
    240_000,
    300_000,
    300_000,
  ]);
  assert.equal(backoffCeilingMs(600, 1), 600_000, "a long interval is its own cap");
  assert.equal(backoffCeilingMs(30, 5000), 300_000, "2^n overflowing to Infinity is still capped");
});

Deno.test("schedule: Retry-After is a floor on the next wait, capped at one hour", () => {
  fc.assert(
    fc.property(state, draw, fc.integer({ min: 0, max: 10 * 86_400 }), (s, r, retryAfter) => {
      const step = nextStep(s, { kind: "throttled", retryAfterSeconds: retryAfter }, fixed(r));
      const floor = Math.min(retryAfter, MAX_RETRY_AFTER_SECONDS) * 1000;
      const ceiling = Math.max(floor, backoffCeilingMs(s.intervalSeconds, s.failures + 1));
      return step.delayMs >= floor && step.delayMs <= ceiling &&
        step.state.failures === s.failures + 1;
    }),
  );
});

Deno.test("schedule: a Retry-After of a day waits one hour, not a day", () => {
  const step = nextStep(
    initialSchedule(30),
    { kind: "throttled", retryAfterSeconds: 86_400 },
    fixed(0),
  );
  assert.equal(step.delayMs, 3_600_000);
});

Deno.test("schedule: a failure keeps the interval", () => {
  fc.assert(
    fc.property(
      state,
      (s) =>
        nextStep(s, { kind: "failed" }, Math.random).state.intervalSeconds === s.intervalSeconds,
    ),
  );
});

Deno.test("retry-after: delay-seconds", () => {
  assert.equal(parseRetryAfter("120", 0), 120);
  assert.equal(parseRetryAfter(" 7 ", 0), 7);
});

Deno.test("retry-after: an HTTP date counts from now and never goes negative", () => {
  const now = Date.parse("Sun, 29 Nov 2026 15:00:00 GMT");
  assert.equal(parseRetryAfter("Sun, 29 Nov 2026 15:01:30 GMT", now), 90);
  assert.equal(parseRetryAfter("Sun, 29 Nov 2026 14:00:00 GMT", now), 0);
});

Deno.test("retry-after: absent or unparsable gives undefined (plain backoff)", () => {
  for (const header of [null, "", "soon", "-5", "1.5", "12abc"]) {
    assert.equal(parseRetryAfter(header, 0), undefined, String(header));
  }
});
