// bench/enroll_floor.ts: the least a Deno program keeping `fetch` can do to enroll, for the
// time-to-enrolled table: post the payload file, take the token from the reply, append the token
// line. No config parsing, no checks. With `--durable`, the token is written as the contract asks
// the agent to (a temporary file, fsync, rename over the config, fsync of the directory), so that
// the floor pays the same two fsyncs. Usage: enroll_floor.ts <url> <payload> <config> [--durable]
const [url, payloadFile, configFile, mode] = Deno.args;
const reply = await fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/json", "Accept": "application/json" },
  body: await Deno.readFile(payloadFile),
});
const { data } = await reply.json();
const line = `SENSOR_TOKEN=${data.sensorToken}\n`;
if (mode === "--durable") {
  const temp = `${configFile}.tmp`;
  const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o600 });
  await file.write(new TextEncoder().encode(await Deno.readTextFile(configFile) + line));
  await file.sync();
  file.close();
  await Deno.rename(temp, configFile);
  const dir = await Deno.open(configFile.slice(0, configFile.lastIndexOf("/")), { read: true });
  await dir.sync();
  dir.close();
} else {
  await Deno.writeTextFile(configFile, line, { append: true });
}
