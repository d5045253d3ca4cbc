// bench/report/backend.ts: the reference backend's section of BENCHMARKS.md
// (bench/backend_load.ts). Pure: text from the measured numbers.
import type { BackendLoadResult, LoadPhase } from "../backend_load.ts";
import { fixed } from "../support.ts";

const mib = (bytes: number) => fixed(bytes / 1024 / 1024, 0);
const seconds = (ms: number) => fixed(ms / 1000, 2);

function statuses(phase: LoadPhase): string {
  return Object.entries(phase.statuses).map(([status, count]) =>
    `${count} x ${status === "0" ? "no answer" : status}`
  ).join(", ");
}

/** The section: the three loads side by side, then what the flood did. */
export function backendLoadSection(result: BackendLoadResult): string {
  const { distinct, storm, flood } = result;
  const row = (name: string, phase: LoadPhase) =>
    `| ${name} | ${phase.requests} | ${statuses(phase)} | ${fixed(phase.okPerSecond, 0)} | ` +
    `${seconds(phase.p50Ms)} | ${seconds(phase.p99Ms)} | ${mib(phase.rssBytes)} |`;
  return [
    "## Reference backend under load",
    "",
    `The reference backend as a process of its own under \`ulimit -n ${result.openFiles}\`, with ` +
    `its defaults (MAX_CONNECTIONS=${result.maxConnections}, HEADER_TIMEOUT_SECONDS=` +
    `${result.headerTimeoutSeconds}), and the loads one after the other (bench/backend_load.ts). ` +
    "Latencies are the client's, from the request to the whole answer.",
    "",
    "| load | requests | answers | 200s per s | p50 s | p99 s | backend RSS MiB |",
    "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    row(`${distinct.requests / 3} distinct sensors at once, 3 rounds`, distinct),
    row(`${storm.requests} heartbeats of one sensor at once`, storm),
    row(
      `probes (enroll + beat every 2 s, retried after 429/503 like the agent) during ${flood.connections} silent connections`,
      flood,
    ),
    "",
    `The flood held ${flood.connections} connections that never sent a byte for ` +
    `${flood.seconds} s, reopening each the backend closed: ${flood.opened} in all. From connect ` +
    `to the backend's close (the wait in the kernel's backlog included): p50 ` +
    `${seconds(flood.closedP50Ms)} s, p99 ${seconds(flood.closedP99Ms)} s, max ` +
    `${seconds(flood.closedMaxMs)} s. The backend itself closed ${flood.silentClosed} silent ` +
    `connections, none later than ${seconds(flood.longestSilentMs)} s after accepting it. ` +
    `The backend ${
      flood.samePid ? "was still the same process" : "**was gone**"
    } afterwards, probes after the flood ${flood.afterOk ? "all got 200" : "**failed**"}, and it ` +
    `logged ${flood.acceptWarnings} accept-error burst(s). RSS is the peak during the flood.`,
    "",
  ].join("\n");
}
