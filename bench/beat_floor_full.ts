// bench/beat_floor_full.ts: the whole-process floor of the heartbeat, doing the agent's job as
// plainly as Deno allows. Started like the agent (the same flags, environment and working
// directory), it reads the env file once (BACKEND_URL, SENSOR_ID, SENSOR_TOKEN, SENSOR_HOST_BINDING)
// and the hostname file; then each beat reads $HOST_PROC/net/dev and every interface's
// $HOST_SYS/class/net/<if>/flags (opened once, read from offset 0, as the agent keeps them), builds
// the heartbeat body (docs/protocol.md: an entry of 8 fields per interface), posts it with the
// agent's headers, parses the JSON reply and waits a second. No classification, no re-detection,
// no time limit, no logging, no backoff: what is left between this and `main.ts run` is the
// agent's own overhead. bench/steady_floor.ts drives the same beat back to back.
// Usage: beat_floor_full.ts <config> <agentVersion>

/** One heartbeat's work, over files opened once. */
export type FloorBeat = () => Promise<void>;

/** Reads the settings, opens what every beat reads, and returns the beat. */
export function floorBeat(configPath: string, agentVersion: string): FloorBeat {
  const config = Deno.readTextFileSync(configPath);
  const setting = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(config)?.[1];
  const proc = Deno.env.get("HOST_PROC")!;
  const sys = Deno.env.get("HOST_SYS")!;
  const hostname = Deno.readTextFileSync(Deno.env.get("HOST_HOSTNAME_FILE")!).trim();
  const url = `${setting("BACKEND_URL")!.replace(/\/+$/, "")}/api/sensors/heartbeat`;
  const netDev = Deno.openSync(`${proc}/net/dev`);
  const names = [...Deno.readDirSync(`${sys}/class/net`)]
    .filter((entry) => entry.isSymlink).map((entry) => entry.name).sort();
  const flagFiles = names.map((name) => Deno.openSync(`${sys}/class/net/${name}/flags`));
  const buffer = new Uint8Array(64 * 1024);
  const decoder = new TextDecoder();
  const arch = Deno.build.arch === "aarch64" ? "arm64" : Deno.build.arch;
  const headers: Record<string, string> = {
    "Accept": "application/json",
    "User-Agent": `ravenxcope-sensor-agent/${agentVersion} (linux; ${arch})`,
    "Authorization": `Bearer ${setting("SENSOR_TOKEN")}`,
    "Content-Type": "application/json",
  };
  const binding = setting("SENSOR_HOST_BINDING");
  if (binding !== undefined) headers["Sensor-Host-Binding"] = binding;
  const sensorLabel = setting("SENSOR_ID") ?? null;

  /** One read for a sysfs attribute; until end of file for net/dev (a page of rows per read). */
  const readText = (file: Deno.FsFile, whole = false) => {
    file.seekSync(0, Deno.SeekMode.Start);
    let length = 0;
    do {
      const n = file.readSync(buffer.subarray(length)) ?? 0;
      if (n === 0) break;
      length += n;
    } while (whole);
    return decoder.decode(buffer.subarray(0, length));
  };

  return async () => {
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
      agentVersion,
      sensorLabel,
      hostname,
      sensorIp: "",
      uptimeSeconds: Math.floor(performance.now() / 1000),
      interfaces,
    });
    const reply = await fetch(url, { method: "POST", headers, body });
    JSON.parse(await reply.text());
  };
}

if (import.meta.main) {
  const beat = floorBeat(Deno.args[0], Deno.args[1]);
  for (;;) {
    await beat();
    await new Promise((done) => setTimeout(done, 1000));
  }
}
