// The fleet benchmark's simulation on a small fleet, so that the bench code is type-checked and run
// with every test (BENCHMARKS.md holds the full-size numbers): the agent's jittered retry must
// spread a restarted fleet where a fixed interval keeps it in step.
import assert from "node:assert/strict";
import { FLEET_SCENARIO, mulberry32, simulateFleet } from "../../bench/fleet.ts";
import { renderReport } from "../../bench/report/mod.ts";
import { histogramSvg } from "../../bench/svg.ts";

const small = { ...FLEET_SCENARIO, agents: 600 };

Deno.test("bench fleet: the agent's retry peaks lower after recovery than a fixed interval", () => {
  const agent = simulateFleet({ ...small, policy: "agent" });
  const fixed = simulateFleet({ ...small, policy: "fixed" });
  assert.ok(
    agent.peakRatio < fixed.peakRatio,
    `agent ${agent.peakRatio.toFixed(2)} vs fixed ${fixed.peakRatio.toFixed(2)}`,
  );
  // Without jitter the whole fleet lands in one second: agents / (agents / interval).
  assert.equal(fixed.peakRatio, small.intervalSeconds);
});

Deno.test("bench fleet: the same seed gives the same histogram", () => {
  const a = simulateFleet({ ...small, policy: "agent" });
  const b = simulateFleet({ ...small, policy: "agent" });
  assert.deepEqual(a.arrivals, b.arrivals);
  assert.equal(a.arrivals.length, small.downSeconds + small.windowSeconds);
});

Deno.test("bench fleet: mulberry32 draws lie in [0, 1)", () => {
  const random = mulberry32(1);
  for (let i = 0; i < 10_000; i++) {
    const value = random();
    assert.ok(value >= 0 && value < 1, String(value));
  }
});

Deno.test("bench report: a fleet-only run renders its table, verdict and histogram link", () => {
  const agent = simulateFleet({ ...small, policy: "agent" });
  const fixed = simulateFleet({ ...small, policy: "fixed" });
  const report = renderReport({
    date: "2026-01-01T00:00:00Z",
    wallSeconds: 1,
    machine: {
      cpuModel: "test",
      cores: 2,
      kernel: "Linux",
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      curl: "curl",
      python: "Python",
      loadBefore: "0.00",
      loadAfter: "0.00",
    },
    fleet: { agent, fixed },
    failures: {},
    svgPath: "docs/fleet-histogram.svg",
  });
  assert.match(report, /## Fleet behaviour/);
  assert.match(report, /fixed interval, no jitter \| 20\.0 \| 600 \| 120 \| 30\.00/);
  assert.match(report, /!\[Arrivals per second, both retry rules\]\(docs\/fleet-histogram\.svg\)/);
  const svg = histogramSvg([{
    title: "fixed",
    arrivals: fixed.arrivals,
    steadyRatePerSecond: fixed.steadyRatePerSecond,
    downSeconds: small.downSeconds,
  }], "caption <&>");
  assert.match(svg, /^<svg [^>]*viewBox="0 0 900 248"/);
  assert.match(svg, /caption &lt;&amp;&gt;/);
});
