// bench/report/fleet.ts: the fleet section of BENCHMARKS.md (bench/fleet.ts): a restarted fleet's
// arrivals under the agent's retry rule and under a fixed interval.
import type { FleetResult } from "../fleet.ts";
import { fixed, table, TARGETS, verdict } from "./text.ts";

/** The section, with the histogram drawn at `svgPath`. */
export function fleetSection(
  fleet: { agent: FleetResult; fixed: FleetResult },
  svgPath: string,
): string {
  const o = fleet.agent.options;
  const row = (name: string, r: FleetResult) => [
    name,
    fixed(r.steadyRatePerSecond, 1),
    r.peakPerSecond,
    r.peakAtSecond,
    fixed(r.peakRatio, 2),
    fixed(r.allBackAfterSeconds, 0),
  ];
  return [
    "## Fleet behaviour",
    "",
    `The real scheduling function (\`nextStep\`, lib/backend/schedule.ts) replayed for ` +
    `${o.agents.toLocaleString("en-US")} simulated agents with a seeded random source ` +
    `(mulberry32, seed ${o.seed}): all start within the same second (a fleet-wide restart) while ` +
    `the backend is down; it comes up ${o.downSeconds} s later. While down every attempt fails; ` +
    `after recovery every attempt succeeds. Arrivals are counted per 1-second bin over the ` +
    `${o.windowSeconds / 60} minutes after recovery; the steady mean rate is agents / interval ` +
    `(${o.intervalSeconds} s). The comparison is a fixed-interval retry without jitter.`,
    "",
    table(
      [
        "retry rule",
        "steady mean /s",
        "peak /s",
        "peak at s",
        "peak / mean",
        "last agent back after s",
      ],
      [
        row("the agent's (jittered backoff, interval x U[0.9, 1.1])", fleet.agent),
        row("fixed interval, no jitter", fleet.fixed),
      ],
    ),
    "",
    `Target: peak / mean <= ${TARGETS.fleetPeakRatio} for the agent's rule: ` +
    `${verdict(fleet.agent.peakRatio, TARGETS.fleetPeakRatio)}. The price of the spread is the ` +
    `recovery time: the last agent reports ${fixed(fleet.agent.allBackAfterSeconds, 0)} s after ` +
    `the backend is back (the backoff window reaches its 300 s cap), against ` +
    `${fixed(fleet.fixed.allBackAfterSeconds, 0)} s for the synchronized fleet that hits it all ` +
    `at once.`,
    "",
    `![Arrivals per second, both retry rules](${svgPath})`,
    "",
  ].join("\n");
}
