// bench/beat_floor_full.ts: the whole-process floor doing the agent's job, as plainly as Deno
// allows: once a second, read <proc>/net/dev and every interface's <sys>/class/net/<if>/flags
// (opened once, read from offset 0, as the agent keeps them), build the same heartbeat body
// (docs/protocol.md: 64 entries of 8 fields), post it with the agent's headers, parse the JSON
// reply, wait 1 s with setTimeout. No classification, no re-detection, no time limit, no logging,
// no backoff: what is left between this and `main.ts run` is the agent's own overhead. Usage: <url>
// <proc> <sys>
const [url, proc, sys] = Deno.args;
const netDev = Deno.openSync(`${proc}/net/dev`);
const names = [...Deno.readDirSync(`${sys}/class/net`)].map((entry) => entry.name).sort();
const flagFiles = names.map((name) => Deno.openSync(`${sys}/class/net/${name}/flags`));
const buffer = new Uint8Array(64 * 1024);
const decoder = new TextDecoder();
const headers = {
  "Accept": "application/json",
  "User-Agent": "ravenxcope-sensor-agent/2.0.0 (linux; x86_64)",
  "Authorization": "Bearer bench-sensor-token-idle-0123456789",
  "Content-Type": "application/json",
};

/** One read for a sysfs attribute; until end of file for net/dev (a page of rows per read). */
function readText(file: Deno.FsFile, whole = false): string {
  file.seekSync(0, Deno.SeekMode.Start);
  let length = 0;
  do {
    const n = file.readSync(buffer.subarray(length)) ?? 0;
    if (n === 0) break;
    length += n;
  } while (whole);
  return decoder.decode(buffer.subarray(0, length));
}

for (;;) {
  const counters = new Map<string, number[]>();
  for (const line of readText(netDev, true).split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (rest !== undefined) counters.set(name.trim(), rest.trim().split(/\s+/).map(Number));
  }
  const interfaces = names.map((name, i) => {
    const flags = parseInt(readText(flagFiles[i]), 16);
    const columns = counters.get(name) ?? [];
    return {
      name,
      isManagement: false,
      isLoopback: (flags & 8) !== 0,
      isVirtual: true,
      isWireless: false,
      isUp: (flags & 1) !== 0,
      bytesSent: columns[8] ?? 0,
      bytesRecv: columns[0] ?? 0,
    };
  });
  const body = JSON.stringify({
    agentVersion: "2.0.0",
    sensorLabel: "bench-idle",
    hostname: "bench-sensor-01",
    sensorIp: "",
    uptimeSeconds: Math.floor(performance.now() / 1000),
    interfaces,
  });
  const reply = await fetch(url, { method: "POST", headers, body });
  JSON.parse(await reply.text());
  await new Promise((done) => setTimeout(done, 1000));
}
