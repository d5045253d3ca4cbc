// bench/status_floor.ts: the floor of `main.ts status` (issue 24: "an empty Deno program plus the
// reads it makes"). It reads the env file and its mode and owner, reads the machine id, checks the
// saved host binding against it (HMAC-SHA-256 keyed by the id, docs/protocol.md) and prints the
// lines `status` prints for an enrolled sensor. No checks, no logging. Started like the agent
// (bench/startup.ts); one file, so that its load is one module's. Usage: status_floor.ts <config>
const [configPath] = Deno.args;
const config = Deno.readTextFileSync(configPath);
const info = Deno.statSync(configPath);
const setting = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(config)?.[1] ?? "";
const machineId = Deno.readTextFileSync(Deno.env.get("HOST_MACHINE_ID_FILE")!).trim();
const encoder = new TextEncoder();
const hex = (bytes: ArrayBuffer) =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
const token = hex(await crypto.subtle.digest("SHA-256", encoder.encode(setting("SENSOR_TOKEN"))));
const key = await crypto.subtle.importKey(
  "raw",
  encoder.encode(machineId),
  { name: "HMAC", hash: "SHA-256" },
  false,
  ["sign"],
);
const binding = hex(
  await crypto.subtle.sign("HMAC", key, encoder.encode("ravenxcope-sensor-host-binding/v1")),
);
const mode = (info.mode! & 0o7777).toString(8).padStart(4, "0");
console.log([
  `config: ${configPath} (mode ${mode}, owner ${info.uid}:${info.gid})`,
  `backend: ${new URL(setting("BACKEND_URL")).href}`,
  `enrolled: yes (sensor token sha256:${token.slice(0, 12)})`,
  `host binding: ${binding === setting("SENSOR_HOST_BINDING") ? "this host's" : "another's"}`,
].join("\n"));
