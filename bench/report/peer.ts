// bench/report/peer.ts: the peer section of BENCHMARKS.md (bench/peer.ts): the agent beside
// node_exporter and the floors on 64 real interfaces, and whole-process CPU against a minimal
// Deno program beating at the same rate.
import type { PeerResult } from "../peer.ts";
import { fixed } from "../support.ts";

type Verdict = (value: number, target: number) => string;

/** The summary table's rows for this section. */
export function peerSummary(peer: PeerResult, ratioTarget: number, verdict: Verdict): string[][] {
  return [[
    "whole-process CPU at 1 beat/s, `main.ts run` / Deno floor doing the same reads and POST",
    fixed(peer.idle.ratio, 2),
    `<= ${ratioTarget}`,
    verdict(peer.idle.ratio, ratioTarget),
  ]];
}

const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;

/** The section: CPU per collection side by side, then whole-process CPU. */
export function peerSection(peer: PeerResult, ratioTarget: number): string {
  const rows: (string | number)[][] = [
    [
      "the agent's interface read alone (InterfaceWatcher.read, under the shipped grants)",
      fixed(peer.agentReadMs, 3),
      "",
    ],
    [
      "Python, the same reads with the files kept open (bench/kept_floor.py, pread)",
      fixed(peer.pythonKeptMs, 3),
      "",
    ],
    [
      "Python, reopening every file (bench/inventory_floor.py: the reopen-everything floor)",
      fixed(peer.pythonReopenMs, 3),
      "",
    ],
  ];
  for (const run of peer.exporter) {
    rows.push([
      `node_exporter, netdev + netclass ${
        run.mode === "netlink" ? "over netlink (`--collector.netclass.netlink`)" : "reading sysfs"
      }, CPU per scrape`,
      `${fixed(run.cpuMsPerScrape, 2)} (stat: ${fixed(run.statCpuMsPerScrape, 1)})`,
      fixed(run.peakRssKiB / 1024, 1),
    ]);
  }
  const exporterNote = peer.exporterMissing
    ? `node_exporter was not measured: ${peer.exporterMissing}.`
    : `node_exporter (${peer.exporterVersion}) runs with only \`--collector.disable-defaults ` +
      `--collector.netdev --collector.netclass\` (and \`--collector.netclass.netlink\`), ` +
      `\`--path.procfs\`/\`--path.sysfs\` at the namespace's bind mounts, on 127.0.0.1 inside it; ` +
      `${peer.scrapes} scrapes by curl, its CPU from /proc/<pid>/task/*/schedstat (all threads; ` +
      `utime + stime of /proc/<pid>/stat in brackets, 10 ms ticks). Install it with ` +
      `\`apt-get install prometheus-node-exporter\` and keep its service stopped.`;
  const { idle } = peer;
  return [
    `## Beside node_exporter, on ${peer.interfaces} real interfaces`,
    "",
    `One network namespace built by the bench (lo, 31 veth pairs, an ifb), its procfs and sysfs ` +
    `bind-mounted at scratch roots inside each measured process's private mount namespace, as a ` +
    `deployment mounts the host's at /host/proc and /host/sys. Medians of ` +
    `${FLOOR_NOTE} collections where timed in-process. The heartbeat's own CPU per beat on these ` +
    `interfaces is the steady-state section above.`,
    "",
    row(["per collection", "ms", "peak RSS MiB"]),
    row(["---", "---:", "---:"]),
    ...rows.map(row),
    "",
    exporterNote,
    "",
    `**Whole process.** \`main.ts run\` started as the \`start\` task starts it (its V8 flags, the ` +
    `agent's permission set); bench/beat_floor_full.ts, the same job as plainly as Deno allows ` +
    `(net/dev and every interface's flags file opened once and read each beat, the same body of ` +
    `${peer.interfaces} entries posted with the agent's headers, the reply parsed, no time limit, ` +
    `no logging, no backoff); and bench/beat_floor.ts (net/dev posted as read, the runtime beating ` +
    `at all), side by side in the namespace for ${idle.seconds} s after a warm-up, all beating once ` +
    `a second (the bench backend's replies ask for a 1 s interval). CPU of each process, all ` +
    `threads. The target is against the floor that does the same job.`,
    "",
    row(["", "CPU ms", "per beat ms", "peak RSS MiB"]),
    row(["---", "---:", "---:", "---:"]),
    row([
      "`main.ts run`",
      fixed(idle.agentCpuMs, 1),
      fixed(idle.agentCpuMs / idle.seconds, 2),
      fixed(idle.agentPeakRssKiB / 1024, 1),
    ]),
    row([
      "bench/beat_floor_full.ts (the same reads and POST)",
      fixed(idle.floorCpuMs, 1),
      fixed(idle.floorCpuMs / idle.seconds, 2),
      fixed(idle.floorPeakRssKiB / 1024, 1),
    ]),
    row([
      "bench/beat_floor.ts (net/dev posted raw, for scale)",
      fixed(idle.bareCpuMs, 1),
      fixed(idle.bareCpuMs / idle.seconds, 2),
      fixed(idle.barePeakRssKiB / 1024, 1),
    ]),
    row(["ratio (target <= " + ratioTarget + ")", fixed(idle.ratio, 2), "", ""]),
    "",
  ].join("\n");
}

const FLOOR_NOTE = "201";
