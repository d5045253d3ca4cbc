// bench/beat_floor.ts: the least a Deno program can do to beat once a second: read <proc>/net/dev,
// post it, read the reply, wait a second. The runtime beating at all, shown for scale beside
// bench/beat_floor_full.ts, the floor that does the agent's job. Usage: beat_floor.ts <url> <proc>
const [url, proc] = Deno.args;
for (;;) {
  const body = await Deno.readFile(`${proc}/net/dev`);
  const reply = await fetch(url, { method: "POST", body });
  await reply.text();
  await new Promise((done) => setTimeout(done, 1000));
}
