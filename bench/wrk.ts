// bench/wrk.ts: one run of wrk against a server taking heartbeats, as bench/backend_load.ts drives
// the reference backend and its floor alike: each request the next sensor's token, the same body,
// as fast as answers come. Reads wrk's throughput, latency percentiles and failures, and the CPU
// the server spent meanwhile (all its threads, from /proc/<pid>/stat, through Python: Deno refuses
// /proc).
import { decode } from "./support.ts";

/**
 * wrk's Lua script: each request the next line of tokens.txt (its first argument), a token and
 * the sensor's host binding, with the body of body.json (its second), as an agent beats.
 */
export const WRK_SCRIPT = `
local tokens, bindings, body, n = {}, {}, nil, 0
function init(args)
  for line in io.lines(args[1]) do
    local token, binding = line:match("^(%S+) (%S+)$")
    tokens[#tokens + 1] = token
    bindings[#bindings + 1] = binding
  end
  body = io.open(args[2]):read("*a")
  n = math.random(#tokens)
end
function request()
  n = n % #tokens + 1
  return wrk.format("POST", "/api/sensors/heartbeat", {
    ["Authorization"] = "Bearer " .. tokens[n],
    ["Sensor-Host-Binding"] = bindings[n],
    ["Content-Type"] = "application/json",
  }, body)
end
`;

/** Where one run's script, tokens (a token and a binding a line) and body are. */
export interface WrkFiles {
  readonly script: string;
  readonly tokens: string;
  readonly body: string;
}

/** What one run measured. */
export interface Run {
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMsPerRequest: number;
  readonly failed: number;
}

/** One wrk run against `url`; the server's CPU time is read before and after. */
export async function drive(
  url: string,
  pid: number,
  seconds: number,
  connections: number,
  files: WrkFiles,
): Promise<Run> {
  const before = await cpuMs(pid);
  const output = await new Deno.Command("wrk", {
    args: [
      "-t2",
      `-c${connections}`,
      `-d${seconds}s`,
      "--latency",
      "-s",
      files.script,
      url,
      "--",
      files.tokens,
      files.body,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const after = await cpuMs(pid);
  const text = decode(output.stdout);
  if (!output.success) throw new Error(`wrk failed: ${decode(output.stderr)}`);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1]);
  const failed = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0) +
    [...text.matchAll(/(?:connect|read|write|timeout) (\d+)/g)].reduce(
      (sum, match) => sum + Number(match[1]),
      0,
    );
  return {
    perSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
    p50Ms: latencyMs(text, "50%"),
    p99Ms: latencyMs(text, "99%"),
    cpuMsPerRequest: (after - before) / requests,
    failed,
  };
}

/** A percentile line of wrk's latency distribution, e.g. `99%  123.45ms`, in ms. */
function latencyMs(text: string, percentile: string): number {
  const match = new RegExp(`^\\s*${percentile}\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(text);
  if (match === null) return NaN;
  const scale = { us: 0.001, ms: 1, s: 1000 }[match[2] as "us" | "ms" | "s"];
  return Number(match[1]) * scale;
}

/** User + system CPU of process `pid`, every thread, in ms. Deno refuses /proc: Python reads it. */
async function cpuMs(pid: number): Promise<number> {
  const output = await new Deno.Command("python3", {
    args: [
      "-c",
      "import os,sys; f=open('/proc/%d/stat' % int(sys.argv[1])).read().rsplit(')',1)[1].split();" +
      "print((int(f[11]) + int(f[12])) * 1000 / os.sysconf('SC_CLK_TCK'))",
      String(pid),
    ],
    stdout: "piped",
  }).output();
  return Number(decode(output.stdout).trim());
}
