// bench/report/peer.ts: the peer section of BENCHMARKS.md (bench/peer.ts): the agent's interface
// read beside node_exporter and the Python floors on the bench namespace's real interfaces.
import { NETNS_DESCRIPTION } from "../netns.ts";
import type { PeerResult } from "../peer.ts";
import { fixed } from "../support.ts";

const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;

/** The section: CPU per collection side by side. */
export function peerSection(peer: PeerResult): string {
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
  return [
    `## Beside node_exporter, on ${peer.interfaces} real interfaces`,
    "",
    `One network namespace built by the bench (${NETNS_DESCRIPTION}), its procfs and sysfs ` +
    `bind-mounted at scratch roots inside each measured process's private mount namespace, as a ` +
    `deployment mounts the host's at /host/proc and /host/sys. Medians of ` +
    `${FLOOR_NOTE} collections where timed in-process. The heartbeat's whole process on these ` +
    `interfaces is the section above.`,
    "",
    row(["per collection", "ms", "peak RSS MiB"]),
    row(["---", "---:", "---:"]),
    ...rows.map(row),
    "",
    exporterNote,
    "",
  ].join("\n");
}

const FLOOR_NOTE = "201";
