// bench/enroll_floor.ts: issue 24's enrollment floor, the least a Deno program can do to enroll as
// the agent must. It reads the env file, the hostname, os-release and machine-id files, and the
// interface list ($HOST_PROC/net/dev; per entry of $HOST_SYS/class/net its link, ifindex, flags and
// listing), posts the agent's payload with fetch (its headers, the Idempotency-Key), and writes the
// token through a 0600 temporary file with fsync, rename and a directory fsync. No checks, no lock,
// no logging, no retry. Started like `main.ts enroll` (bench/startup.ts); one file, so that its
// load is one module's. Usage: enroll_floor.ts <config> <agentVersion>
const [configPath, agentVersion] = Deno.args;
const env = (name: string) => Deno.env.get(name)!;
const text = (path: string) => Deno.readTextFileSync(path);
const config = text(configPath);
const setting = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(config)?.[1] ?? "";
const installToken = setting("INSTALL_TOKEN");
const machineId = text(env("HOST_MACHINE_ID_FILE")).trim();
const osRelease = text(env("HOST_OS_RELEASE_FILE"));
const counters = new Map<string, number[]>();
for (const row of text(`${env("HOST_PROC")}/net/dev`).split("\n").slice(2)) {
  const [name, rest] = row.split(":");
  if (rest !== undefined) counters.set(name.trim(), rest.trim().split(/\s+/).map(Number));
}
const classNet = `${env("HOST_SYS")}/class/net`;
const interfaces = [...Deno.readDirSync(classNet)].filter((e) => e.isSymlink).map(({ name }) => {
  const link = `${classNet}/${name}`;
  const device = Deno.readLinkSync(link);
  const flags = parseInt(text(`${link}/flags`), 16);
  const wireless = [...Deno.readDirSync(link)].some((e) => /^(wireless|phy80211)$/.test(e.name));
  const [bytesRecv, , , , , , , , bytesSent] = counters.get(name) ?? [];
  return [Number(text(`${link}/ifindex`)), {
    name,
    isManagement: false,
    isLoopback: (flags & 8) !== 0,
    isVirtual: device.includes("devices/virtual/"),
    isWireless: wireless,
    isUp: (flags & 1) !== 0,
    bytesSent: bytesSent ?? 0,
    bytesRecv: bytesRecv ?? 0,
  }] as const;
}).sort(([a], [b]) => a - b).map(([, entry]) => entry);
const payload = {
  installToken,
  hostname: text(env("HOST_HOSTNAME_FILE")).trim(),
  osInfo: /^PRETTY_NAME="?(.*?)"?$/m.exec(osRelease)?.[1] ?? "",
  architecture: Deno.build.arch === "aarch64" ? "arm64" : Deno.build.arch,
  agentVersion,
  sensorIp: setting("SENSOR_IP"), // no detection: issue 24's floor reads no addresses
  sensorPort: Number(setting("SENSOR_PORT") || 22),
  sudoUser: "sensoradmin",
  interfaces,
};
const encoder = new TextEncoder();
const key = await crypto.subtle.importKey(
  "raw",
  encoder.encode(installToken),
  { name: "HMAC", hash: "SHA-256" },
  false,
  ["sign"],
);
const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(machineId)));
const reply = await fetch(`${setting("BACKEND_URL").replace(/\/+$/, "")}/api/sensors/enroll`, {
  method: "POST",
  headers: {
    "Accept": "application/json",
    "User-Agent": `ravenxcope-sensor-agent/${agentVersion} (linux; ${payload.architecture})`,
    "Content-Type": "application/json",
    "Idempotency-Key": Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(""),
  },
  body: JSON.stringify(payload),
});
const { data } = await reply.json();
const saved = config.replace(/^INSTALL_TOKEN=.*$/m, "# INSTALL_TOKEN= (used)") +
  `SENSOR_TOKEN=${data.sensorToken}\n`;
const temp = `${configPath}.tmp`;
const file = Deno.openSync(temp, { write: true, createNew: true, mode: 0o600 });
file.writeSync(encoder.encode(saved)); // a few hundred bytes: one write takes them all
file.syncSync(); // the data on disk before the name points at it
file.close();
Deno.renameSync(temp, configPath);
const dir = Deno.openSync(configPath.slice(0, configPath.lastIndexOf("/")));
dir.syncSync(); // the rename itself on disk
dir.close();
