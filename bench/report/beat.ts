// bench/report/beat.ts: the whole-process heartbeat section of BENCHMARKS.md (bench/beat.ts):
// the agent's `run` beside its floor and the bare floor, CPU per beat and peak RSS. Pure.
import { BEAT_TARGETS, type BeatProcess, type BeatResult } from "../beat.ts";
import { commandDetails, fixed, table, verdict } from "./text.ts";

/** The section. */
export function beatSection(result: BeatResult): string {
  const row = (name: string, p: BeatProcess) => [
    name,
    fixed(p.cpuMsPerBeat, 3),
    p.beats,
    fixed(p.cpuMs, 1),
    p.windows.map((w) => fixed(w, 2)).join(", "),
    fixed(p.peakRssKiB / 1024, 1),
  ];
  return [
    "## Heartbeat: the whole process against its floor",
    "",
    "The agent as it ships (the bundle `deno task build` writes, built afresh into the scratch " +
    "directory) running `run`, beating once a second (the bench backend's replies ask for a 1 s " +
    "interval) " +
    `on ${result.host}, beside bench/beat_floor_full.ts, the same job as plainly as Deno allows ` +
    "(the env file read once; net/dev and every interface's flags file opened once and read each " +
    "beat; the same body posted with the agent's headers, its token and host binding; the reply " +
    "parsed; no classification, time limit, logging or backoff), and bench/beat_floor.ts " +
    "(net/dev posted raw: the runtime beating at all). All three are started alike (the `start` " +
    "task's V8 flags, the shipped permission set with stand-in paths, the same environment, " +
    "deno.json and working directory) and run at the same time, so that drift in the machine's " +
    "speed falls on all of them. Each was first started once and stopped after 2 s, so that " +
    "Deno's cache of its compiled code exists, as it does on a host from the agent's second " +
    "start on (a first start peaks about 4 MiB higher). " +
    `After a 10 s warm-up, ${result.seconds} s are measured in ` +
    `${result.windowRatios.length} parts: each process's CPU (all threads, ` +
    "/proc/<pid>/task/*/schedstat) divided by the beats the backend counted for it in the same " +
    "part. A part is 60 s long, because every 60 s the agent looks at the interface set, host " +
    "facts and sensor IP again (docs/protocol.md), work the floor never does: each part holds " +
    "one such beat. Peak RSS is the process's VmHWM.",
    "",
    table(
      ["process", "CPU ms per beat", "beats", "CPU ms", "per part", "peak RSS MiB"],
      [
        row("`sensor-agent.js run`", result.agent),
        row("bench/beat_floor_full.ts (the same job)", result.floor),
        row("bench/beat_floor.ts (net/dev posted raw, for scale)", result.bare),
      ],
    ),
    "",
    table(["agent / floor", "measured", "per part", "target", "verdict"], [
      [
        "CPU per beat",
        fixed(result.cpuRatio, 2),
        result.windowRatios.map((r) => fixed(r, 2)).join(", "),
        `<= ${BEAT_TARGETS.cpuRatio}`,
        verdict(result.cpuRatio, BEAT_TARGETS.cpuRatio),
      ],
      [
        "peak RSS",
        fixed(result.peakRssRatio, 2),
        "",
        `<= ${BEAT_TARGETS.peakRssRatio}`,
        verdict(result.peakRssRatio, BEAT_TARGETS.peakRssRatio),
      ],
    ]),
    "",
    commandDetails([result.agentCommand, result.floorCommand], result.flags),
    "",
  ].join("\n");
}
