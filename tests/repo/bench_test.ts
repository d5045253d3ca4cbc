// The fleet benchmark's simulation on a small fleet, so that the bench code is type-checked and run
// with every test (BENCHMARKS.md holds the full-size numbers): the agent's jittered retry must
// spread a restarted fleet where a fixed interval keeps it in step.
import assert from "node:assert/strict";
import { FLEET_SCENARIO, mulberry32, simulateFleet } from "../../bench/fleet.ts";
import { renderReport } from "../../bench/report/mod.ts";
import { histogramSvg } from "../../bench/svg.ts";
import { PROJECT } from "../support/agent.ts";

const small = { ...FLEET_SCENARIO, agents: 600 };

/** The machine a rendered test report names: fixed, so that only the figures under test vary. */
const TEST_MACHINE = {
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
};

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
    machine: TEST_MACHINE,
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

Deno.test("bench report: issue 24's table judges each ratio by its target, RSS growth by the floor's", () => {
  const mib = 1024 * 1024;
  const reading = (rssMiB: number) => ({
    rssBytes: rssMiB * mib,
    heapUsedBytes: 5 * mib,
    heapTotalBytes: 9 * mib,
    externalBytes: mib,
    cpuMs: 100,
    wallMs: 100,
  });
  const phases = { steps: { main: 5, config: 12, done: 30 }, wallMs: 50 };
  const command = (name: "enroll" | "status", agentMs: number, target: number) => ({
    name,
    floorName: `bench/${name}_floor.ts`,
    agentMs,
    floorMs: 40,
    ratio: agentMs / 40,
    target,
    pairs: [{ agentMs, floorMs: 40 }],
    phases,
    agentCommand: `deno run $FLAGS <scratch>/sensor-agent.js ${name}`,
    floorCommand: `deno run $FLAGS bench/${name}_floor.ts`,
  });
  const process = (cpuMsPerBeat: number, peakMiB: number) => ({
    cpuMs: cpuMsPerBeat * 90,
    beats: 90,
    cpuMsPerBeat,
    peakRssKiB: peakMiB * 1024,
    windows: [cpuMsPerBeat, cpuMsPerBeat, cpuMsPerBeat],
  });
  const report = renderReport({
    date: "2026-01-01T00:00:00Z",
    wallSeconds: 1,
    machine: TEST_MACHINE,
    startup: {
      host: "65 real interfaces",
      rounds: 1,
      requestedPairs: 1,
      // 48 / 40 = 1.2: within 1.25; 60 / 40 = 1.5: 15 % over 1.3.
      commands: [command("enroll", 48, 1.25), command("status", 60, 1.3)],
      emptyMs: 20,
      emptyCommand: "deno run $FLAGS bench/empty.ts",
      flags: "-q",
    },
    beat: {
      host: "65 real interfaces",
      seconds: 90,
      agent: process(2.4, 56),
      floor: process(2, 50),
      bare: process(1.5, 45),
      cpuRatio: 1.2,
      windowRatios: [1.2, 1.2, 1.2],
      peakRssRatio: 56 / 50,
      agentCommand: "deno run $FLAGS <scratch>/sensor-agent.js run",
      floorCommand: "deno run $FLAGS bench/beat_floor_full.ts",
      flags: "-q",
    },
    steady: {
      interfaces: 65,
      requestedBeats: 10_000,
      beats: 10_000,
      atFirstMark: reading(50),
      between: [],
      atEnd: reading(54),
      failedBeats: 0,
      warnings: [],
      rssGrowth: 4 / 50,
      cpuMsPerBeat: 0.6,
      wallMsPerBeat: 0.7,
      floor: {
        rssGrowth: 6 / 45,
        cpuMsPerBeat: 0.6,
        atFirstMark: { rssBytes: 45 * mib, heapTotalBytes: 8 * mib },
        atEnd: { rssBytes: 51 * mib, heapTotalBytes: 9 * mib },
      },
    },
    failures: {},
    svgPath: "docs/fleet-histogram.svg",
  });
  const row = (start: string) => report.split("\n").find((line) => line.startsWith(`| ${start}`));
  assert.match(row("time-to-enrolled")!, /\| 1\.20 \* \| <= 1\.25 \| met \|/);
  assert.match(
    row("`sensor-agent.js status`")!,
    /\| 1\.50 \* \| <= 1\.3 \| \*\*missed\*\* by 15 % \|/,
  );
  assert.match(
    row("whole-process CPU per beat")!,
    /\| 1\.20 \| <= 1\.15 \| \*\*missed\*\* by 4 % \|/,
  );
  assert.match(row("peak RSS while beating")!, /\| 1\.12 \| <= 1\.15 \| met \|/);
  // 4 MiB against the floor's 6 MiB: met, though 8 % of a larger start.
  assert.match(row("RSS growth, beat 100 to 10,000")!, /4\.0 MiB .*\| 6\.0 MiB .*\| met \|/);
});

Deno.test("bench: the task loads every section's code under its own permission set", async () => {
  // The fleet section alone runs in a second; the import of every other section happens all the
  // same, under the task's flags, so that a module reading what the task does not grant fails here.
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "bench", "--only", "fleet"],
    cwd: PROJECT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 0, stderr);
  assert.match(stderr, /BENCHMARKS\.md left as it was/);
});
