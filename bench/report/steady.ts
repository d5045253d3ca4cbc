// bench/report/steady.ts: the steady-state section of BENCHMARKS.md (bench/steady.ts): memory and
// CPU of the real heartbeat loop over thousands of beats, against the runtime's own floor loop.
import type { InventoryResult } from "../inventory.ts";
import type { SteadyResult } from "../steady.ts";
import { permissionWalk } from "./inventory.ts";
import { fixed, mb, ms, table, TARGETS } from "./text.ts";

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
  if (result.rssGrowth > TARGETS.rssGrowth) {
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
    `permission set and loads its config as the agent does. Each reading follows a full garbage collection (the child runs with ` +
    `\`--v8-flags=--expose-gc\` for that alone; the collection's CPU is left out).`,
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
      ["RSS growth", `${fixed(result.rssGrowth * 100, 1)} %`, `<= ${TARGETS.rssGrowth * 100} %`],
      [
        "CPU per beat (user + system, beats 101 to the end)",
        `${ms(result.cpuMsPerBeat, 3)} ms`,
        `<= ${TARGETS.cpuMsPerBeat} ms`,
      ],
      ["wall time per beat", `${ms(result.wallMsPerBeat, 3)} ms`, ""],
      ...(result.floor
        ? [[
          "the floor loop's RSS growth (bench/steady_floor.ts), same flags and beats",
          `${fixed(result.floor.rssGrowth * 100, 1)} %`,
          "",
        ]]
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
  return ` **The floor.** bench/steady_floor.ts, which only reads <proc>/net/dev and posts it ` +
    `with \`fetch\`, run through the same ${result.beats.toLocaleString("en-US")} back-to-back ` +
    `beats on the same host and backend with the same V8 flags, grows from ` +
    `${mb(floor.atFirstMark.rssBytes)} to ${mb(floor.atEnd.rssBytes)} MiB ` +
    `(${fixed(floor.rssGrowth * 100, 1)} %; its V8 heap ${mb(floor.atFirstMark.heapTotalBytes)} ` +
    `to ${mb(floor.atEnd.heapTotalBytes)} MiB): the runtime itself grows by ${mb(grown)} MiB in ` +
    `this loop, against the agent's ${mb(agentGrown)} MiB. ${
      agentGrown <= grown
        ? "The agent adds no growth of its own; the target is below what the runtime allows."
        : `The agent's own share is ${mb(agentGrown - grown)} MiB.`
    }`;
}
