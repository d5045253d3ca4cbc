// bench/enroll_floor.ts: the least a Deno program keeping `fetch` can do to enroll, for the
// time-to-enrolled table: post the payload file, take the token from the reply, append the token
// line. No config parsing, no checks, no fsync. Usage: enroll_floor.ts <url> <payload> <config>
const [url, payloadFile, configFile] = Deno.args;
const reply = await fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/json", "Accept": "application/json" },
  body: await Deno.readFile(payloadFile),
});
const { data } = await reply.json();
await Deno.writeTextFile(configFile, `SENSOR_TOKEN=${data.sensorToken}\n`, { append: true });
