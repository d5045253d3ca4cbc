// bench/fleet.ts: a fleet of agents replayed through the real scheduling function
// (lib/backend/schedule.ts) on a simulated clock. Pure and seeded: the same options give the same
// histogram on every machine.
//
// Scenario (issue: fleet behaviour): every agent starts within the same second, as after a
// fleet-wide restart, while the backend is down; it comes up `downSeconds` later. While it is down
// every attempt fails; from then on every attempt succeeds. Agents do not interact (the backend's
// answer depends on the clock only), so each agent's timeline is replayed on its own.
import { loadSchedule, type ScheduleState, type Step } from "../lib/backend/mod.ts";

const { initialSchedule, nextStep } = await loadSchedule();

/** How an agent picks its next wait: the agent's own rule, or a naive one to compare with. */
export type RetryPolicy = "agent" | "fixed";

export interface FleetOptions {
  readonly agents: number;
  readonly seed: number;
  /** The interval the backend asked for, in seconds; also the steady rate's divisor. */
  readonly intervalSeconds: number;
  /** How long the backend is down after the restart. */
  readonly downSeconds: number;
  /** How long after recovery arrivals are watched. */
  readonly windowSeconds: number;
  readonly policy: RetryPolicy;
}

export interface FleetResult {
  readonly options: FleetOptions;
  /** Attempts that reached the backend in each 1-second bin, from the restart on. */
  readonly arrivals: number[];
  /** agents / interval: the arrival rate of a fleet that has spread out. */
  readonly steadyRatePerSecond: number;
  /** The busiest 1-second bin in the window after recovery, and where it is. */
  readonly peakPerSecond: number;
  readonly peakAtSecond: number;
  /** peakPerSecond / steadyRatePerSecond: the number (target <= 2 for the agent's rule). */
  readonly peakRatio: number;
  /** Seconds after recovery until the last agent's first successful beat. */
  readonly allBackAfterSeconds: number;
}

/** mulberry32: a tiny seeded PRNG with values in [0, 1), good enough to draw jitter. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A retry every interval on the dot, success or failure: what the agent must not do. */
function fixedStep(state: ScheduleState): Step {
  return { state, delayMs: state.intervalSeconds * 1000 };
}

/** Replays the scenario for every agent and counts arrivals per second. */
export function simulateFleet(options: FleetOptions): FleetResult {
  const { agents, intervalSeconds, downSeconds, windowSeconds } = options;
  const random = mulberry32(options.seed);
  const end = downSeconds + windowSeconds;
  const arrivals = new Array<number>(Math.ceil(end)).fill(0);
  let allBackAt = downSeconds;
  for (let agent = 0; agent < agents; agent++) {
    let t = random(); // all start within the same second
    let state = initialSchedule(intervalSeconds);
    let back = false;
    // Bounded: every wait after a success is >= 0.9 interval; failures end at downSeconds.
    for (let attempts = 0; t < end && attempts < 1_000_000; attempts++) {
      arrivals[Math.floor(t)]++;
      const up = t >= downSeconds;
      if (up && !back) {
        back = true;
        allBackAt = Math.max(allBackAt, t);
      }
      const step = options.policy === "fixed"
        ? fixedStep(state)
        : nextStep(state, up ? { kind: "ok" } : { kind: "failed" }, random);
      state = step.state;
      t += step.delayMs / 1000;
    }
  }
  const steadyRatePerSecond = agents / intervalSeconds;
  let peakAtSecond = Math.ceil(downSeconds);
  for (let second = peakAtSecond; second < arrivals.length; second++) {
    if (arrivals[second] > arrivals[peakAtSecond]) peakAtSecond = second;
  }
  const peakPerSecond = arrivals[peakAtSecond];
  return {
    options,
    arrivals,
    steadyRatePerSecond,
    peakPerSecond,
    peakAtSecond,
    peakRatio: peakPerSecond / steadyRatePerSecond,
    allBackAfterSeconds: allBackAt - downSeconds,
  };
}

/** The scenario: 10,000 agents, 30 s interval, backend down 120 s, 10 minutes watched. */
export const FLEET_SCENARIO = {
  agents: 10_000,
  seed: 20_250_601,
  intervalSeconds: 30,
  downSeconds: 120,
  windowSeconds: 600,
} as const;
