// bench/report/steady.ts: the steady-state section of BENCHMARKS.md (bench/steady.ts): memory and
// CPU of the real heartbeat loop over thousands of beats, against the runtime's own floor loop.
import type { InventoryResult } from "../inventory.ts";
import type { FloorResult, SteadyResult } from "../steady.ts";
import { permissionWalk } from "./inventory.ts";
import { fixed, mb, ms, table, TARGETS } from "./text.ts";

/** How much the agent's RSS grew from beat 100 to the end, bytes. */
export function steadyGrowthBytes(result: SteadyResult): number {
  return result.atEnd.rssBytes - result.atFirstMark.rssBytes;
}

/** How much the floor's RSS grew over the same beats, bytes. */
export function floorGrowthBytes(floor: FloorResult): number {
  return floor.atEnd.rssBytes - floor.atFirstMark.rssBytes;
}

/** The section, with why a figure misses its target when one does. */
export function steadySection(result: SteadyResult, inventory?: InventoryResult): string {
  const reading = (name: string, r: SteadyResult["atEnd"]) => [
    name,
    mb(r.rssBytes),
    mb(r.heapUsedBytes),
    mb(r.heapTotalBytes),
    mb(r.externalBytes),
    fixed(r.cpuMs / 1000, 2),
    fixed(r.wallMs / 1000, 2),
  ];
  const why: string[] = [];
  if (result.beats < result.requestedBeats) {
    why.push(
      `**Cut short.** The loop made ${result.beats.toLocaleString("en-US")} of the ` +
        `${result.requestedBeats.toLocaleString("en-US")} beats asked for within the steady ` +
        `benchmark's time budget (bench/steady.ts), so the last row is after ` +
        `${result.beats.toLocaleString("en-US")} beats, not ` +
        `${result.requestedBeats.toLocaleString("en-US")}.`,
      "",
    );
  }
  if (result.cpuMsPerBeat > TARGETS.cpuMsPerBeat && inventory) {
    why.push(
      `**Why CPU misses.** The section below measures the floors on the same interfaces: the ` +
        `agent's interface read alone, Python doing the same reads with the files kept open, and a ` +
        `minimal Deno program that only reads <proc>/net/dev and posts. ${
          permissionWalk(inventory)
        }`,
      "",
    );
  }
  const noWorse = result.floor !== undefined &&
    steadyGrowthBytes(result) <= floorGrowthBytes(result.floor);
  if (!noWorse) {
    const heapGrowth = result.atEnd.heapTotalBytes - result.atFirstMark.heapTotalBytes;
    const liveGrowth = result.atEnd.heapUsedBytes - result.atFirstMark.heapUsedBytes;
    const rssGrowth = result.atEnd.rssBytes - result.atFirstMark.rssBytes;
    const fromThousand = result.between?.find((mark) => mark.beat === 1_000)?.reading;
    const later = fromThousand === undefined ? "" : ` From beat 1,000 to the end RSS grows by ` +
      `${fixed((result.atEnd.rssBytes / fromThousand.rssBytes - 1) * 100, 1)} %: growth that ` +
      `levels off is warm-up, growth that goes on is a leak.`;
    why.push(
      `**Why RSS grows.** Of the ${mb(rssGrowth)} MiB, V8's reserved heap accounts for ` +
        `${mb(heapGrowth)} MiB, of which live objects after a full GC are ${mb(liveGrowth)} MiB ` +
        `(${fixed(liveGrowth / (result.beats - 100), 0)} bytes per beat). Beats here come ` +
        `back to back, so V8 sizes its young generation for a high allocation rate; a live-object ` +
        `growth near zero means no leak, a steady one means something each beat leaves behind ` +
        `(for instance a timer armed per request that outlives it).${later}${floorNote(result)}`,
      "",
    );
  }
  return [
    "## Steady state",
    "",
    `The real heartbeat loop (\`runHeartbeats\`) in one process, its wait returning at once, each ` +
    `beat a \`collectSnapshot\` of ${result.host ?? "a fixture host"} (counters and flags read ` +
    `afresh, the set, hostname and sensor IP kept up to 60 s as docs/protocol.md allows) posted ` +
    `over real HTTP to the bench backend (a separate process). The process holds the agent's ` +
    `permission set and loads its config as the agent does. Each reading follows a full garbage ` +
    `collection (the child runs with the \`start\` task's V8 flags plus \`--expose-gc\` for that ` +
    `alone; the collection's CPU is left out). Then the floor, bench/steady_floor.ts (the beat of ` +
    `bench/beat_floor_full.ts: the agent's reads, body, headers and reply, nothing else), goes ` +
    `through the same beats on the same host and backend, started the same way. The target ` +
    `(issue 24): the agent's RSS grows by no more MiB than the floor's.`,
    "",
    table(
      [
        "after beat",
        "RSS MiB",
        "heap used MiB",
        "heap total MiB",
        "external MiB",
        "CPU s",
        "wall s",
      ],
      [
        reading(String(100), result.atFirstMark),
        ...(result.between ?? []).map((mark) =>
          reading(mark.beat.toLocaleString("en-US"), mark.reading)
        ),
        reading(result.beats.toLocaleString("en-US"), result.atEnd),
      ],
    ),
    "",
    table(["", "measured", "target"], [
      [
        "RSS growth, beat 100 to the end",
        `${mb(steadyGrowthBytes(result))} MiB (${fixed(result.rssGrowth * 100, 1)} %)`,
        result.floor === undefined
          ? ""
          : `<= the floor's, ${mb(floorGrowthBytes(result.floor))} MiB: ${
            noWorse ? "met" : "**missed**"
          }`,
      ],
      [
        "CPU per beat (user + system, beats 101 to the end)",
        `${ms(result.cpuMsPerBeat, 3)} ms`,
        `<= ${TARGETS.cpuMsPerBeat} ms`,
      ],
      ["wall time per beat", `${ms(result.wallMsPerBeat, 3)} ms`, ""],
      ...(result.floor
        ? [
          [
            "the floor's RSS growth (bench/steady_floor.ts), same start and beats",
            `${mb(floorGrowthBytes(result.floor))} MiB (${
              fixed(result.floor.rssGrowth * 100, 1)
            } %)`,
            "",
          ],
          [
            "the floor's CPU per beat",
            `${ms(result.floor.cpuMsPerBeat, 3)} ms`,
            "",
          ],
        ]
        : []),
      ["failed beats / warnings", `${result.failedBeats} / ${result.warnings.length}`, "0 / 0"],
    ]),
    "",
    ...why,
  ].join("\n");
}

/** The floor experiment for RSS: the runtime's own growth in the same loop (bench/steady.ts). */
function floorNote(result: SteadyResult): string {
  const { floor } = result;
  if (floor === undefined) return "";
  const grown = floor.atEnd.rssBytes - floor.atFirstMark.rssBytes;
  const agentGrown = result.atEnd.rssBytes - result.atFirstMark.rssBytes;
  return ` **The floor.** bench/steady_floor.ts, doing the agent's reads and request and nothing ` +
    `else, run through the same ${result.beats.toLocaleString("en-US")} back-to-back ` +
    `beats on the same host and backend, started the same way, grows from ` +
    `${mb(floor.atFirstMark.rssBytes)} to ${mb(floor.atEnd.rssBytes)} MiB ` +
    `(${fixed(floor.rssGrowth * 100, 1)} %; its V8 heap ${mb(floor.atFirstMark.heapTotalBytes)} ` +
    `to ${mb(floor.atEnd.heapTotalBytes)} MiB): the runtime itself grows by ${mb(grown)} MiB in ` +
    `this loop, against the agent's ${mb(agentGrown)} MiB. ${
      agentGrown <= grown
        ? "The agent adds no growth of its own."
        : `The agent's own share is ${mb(agentGrown - grown)} MiB.`
    }`;
}
