// bench/inventory_command_floor.ts: the floor of `main.ts inventory` (issue 24: "an empty Deno
// program plus the reads it makes"). It reads the env file, the hostname and os-release files,
// $HOST_PROC/net/dev and net/route, per entry of $HOST_SYS/class/net its link, ifindex, flags and
// listing, and Deno.networkInterfaces(); takes SENSOR_IP, else picks the sensor IP from the
// default route's interface; prints the enrollment payload as `inventory` does (the install token as its fingerprint). No
// checks, no logging, no dial. Started like the agent (bench/startup.ts); one file, so that its
// load is one module's. Usage: inventory_command_floor.ts <config> <agentVersion>
const [configPath, agentVersion] = Deno.args;
const env = (name: string) => Deno.env.get(name)!;
const text = (path: string) => Deno.readTextFileSync(path);
const config = text(configPath);
const setting = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(config)?.[1] ?? "";
const osRelease = text(env("HOST_OS_RELEASE_FILE"));
const counters = new Map<string, number[]>();
for (const row of text(`${env("HOST_PROC")}/net/dev`).split("\n").slice(2)) {
  const [name, rest] = row.split(":");
  if (rest !== undefined) counters.set(name.trim(), rest.trim().split(/\s+/).map(Number));
}
const defaultRoute = text(`${env("HOST_PROC")}/net/route`).split("\n").slice(1)
  .map((row) => row.split("\t")).find((columns) => columns[1] === "00000000")?.[0];
const addresses = Deno.networkInterfaces().filter((a) => a.family === "IPv4");
const sensorIp = setting("SENSOR_IP") || ((addresses.find((a) => a.name === defaultRoute) ??
  addresses.find((a) => !a.address.startsWith("127.")))?.address ?? "");
const holder = addresses.find((a) => a.address === sensorIp)?.name;
const classNet = `${env("HOST_SYS")}/class/net`;
const interfaces = [...Deno.readDirSync(classNet)].filter((e) => e.isSymlink).map(({ name }) => {
  const link = `${classNet}/${name}`;
  const device = Deno.readLinkSync(link);
  const flags = parseInt(text(`${link}/flags`), 16);
  const wireless = [...Deno.readDirSync(link)].some((e) => /^(wireless|phy80211)$/.test(e.name));
  const [bytesRecv, , , , , , , , bytesSent] = counters.get(name) ?? [];
  return [Number(text(`${link}/ifindex`)), {
    name,
    isManagement: name === holder,
    isLoopback: (flags & 8) !== 0,
    isVirtual: device.includes("devices/virtual/"),
    isWireless: wireless,
    isUp: (flags & 1) !== 0,
    bytesSent: bytesSent ?? 0,
    bytesRecv: bytesRecv ?? 0,
  }] as const;
}).sort(([a], [b]) => a - b).map(([, entry]) => entry);
const digest = await crypto.subtle.digest(
  "SHA-256",
  new TextEncoder().encode(setting("INSTALL_TOKEN")),
);
const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
console.log(JSON.stringify(
  {
    installToken: `sha256:${hex.slice(0, 12)}`,
    hostname: text(env("HOST_HOSTNAME_FILE")).trim(),
    osInfo: /^PRETTY_NAME="?(.*?)"?$/m.exec(osRelease)?.[1] ?? "",
    architecture: Deno.build.arch === "aarch64" ? "arm64" : Deno.build.arch,
    agentVersion,
    sensorIp,
    sensorPort: Number(setting("SENSOR_PORT") || 22),
    sudoUser: "sensoradmin",
    interfaces,
  },
  null,
  2,
));
