// bench/beat_floor.ts: the least a Deno program can do to beat once a second: read
// $HOST_PROC/net/dev, post it to the env file's BACKEND_URL, read the reply, wait a second. The
// runtime beating at all, shown for scale beside bench/beat_floor_full.ts, the floor that does the
// agent's job, and started as both are (bench/beat.ts). Usage: beat_floor.ts <config>
const config = Deno.readTextFileSync(Deno.args[0]);
const backend = /^BACKEND_URL=(.*)$/m.exec(config)![1].replace(/\/+$/, "");
const netDev = `${Deno.env.get("HOST_PROC")}/net/dev`;
for (;;) {
  const body = await Deno.readFile(netDev);
  const reply = await fetch(`${backend}/api/sensors/heartbeat`, { method: "POST", body });
  await reply.text();
  await new Promise((done) => setTimeout(done, 1000));
}
