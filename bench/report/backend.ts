// bench/report/backend.ts: the reference backend's section of BENCHMARKS.md
// (bench/backend_load.ts). Pure: text from the measured numbers.
import type { BackendLoadResult, Throughput } from "../backend_load.ts";
import { fixed } from "../support.ts";

const mib = (bytes: number) => fixed(bytes / 1024 / 1024, 0);

/** The section: the backend's heartbeat throughput beside its runtime's floor. */
export function backendLoadSection(result: BackendLoadResult): string {
  const { floor, backend } = result;
  const row = (name: string, t: Throughput, ratio: string) =>
    `| ${name} | ${fixed(t.perSecond, 0)} | ${ratio} | ${
      t.runs.map((r) => fixed(r, 0)).join(", ")
    } | ${fixed(t.p50Ms, 0)} | ${fixed(t.p99Ms, 0)} | ${
      fixed(t.cpuMsPerRequest, 3)
    } | ${t.failed} | ${mib(t.rssBytes)} |`;
  return [
    "## Reference backend: heartbeat throughput",
    "",
    `${result.sensors} enrolled sensors beat as fast as answers come: wrk with ` +
    `${result.connections} kept-alive connections, each request the next sensor's heartbeat ` +
    "(the seed's two interfaces). Beside it, in the same run and driven the same way, the floor: " +
    "`Deno.serve` doing a JSON parse and one Deno KV write per request (bench/backend_floor.ts). " +
    `Both under \`ulimit -n ${result.openFiles}\`, taking turns, ${result.rounds} runs of ` +
    `${result.seconds} s each; the median run is shown (bench/backend_load.ts). CPU is the ` +
    "server's user + system time, all threads, per request. Straight to the backend, without the " +
    "reverse proxy, which adds TLS on the same two cores.",
    "",
    "| server | requests/s | vs floor | runs | p50 ms | p99 ms | CPU ms/request | failed | RSS MiB |",
    "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    row("floor: Deno.serve + JSON.parse + one KV write", floor, "1.00"),
    row("reference backend", backend, `**${fixed(result.ratio, 2)}**`),
    "",
  ].join("\n");
}
