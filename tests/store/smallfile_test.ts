// Reading a small file that another process replaces as the agent saves it (lib/store/smallfile.ts):
// a rename over the file between the look and the open is a sibling agent's atomic save, and the
// file it leaves is read, not refused (tests/agent/race_test.ts met it as a rare 78).
import assert from "node:assert/strict";
import { join } from "node:path";
import { readSmallFile } from "../../lib/store/mod.ts";

Deno.test("smallfile: a file replaced by rename again and again while it is read is still read, each time whole", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "sensor-agent.env");
  await Deno.writeTextFile(path, "SENSOR_ID=a\n", { mode: 0o600 });
  // A shell loop: the replacing runs in its own process, as a sibling agent's save does.
  const script =
    `while :; do printf 'SENSOR_ID=b\\n' > "$1/t"; chmod 600 "$1/t"; mv -f "$1/t" "$1/sensor-agent.env"; done`;
  const writer = new Deno.Command("sh", { args: ["-c", script, "sh", dir], stderr: "null" })
    .spawn();
  try {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const text = new TextDecoder().decode(
        await readSmallFile(path, { role: "secret", maxBytes: 1024 }),
      );
      seen.add(text);
    }
    assert.ok([...seen].every((text) => /^SENSOR_ID=[ab]\n$/.test(text)), [...seen].join("|"));
    assert.ok(seen.has("SENSOR_ID=b\n"), "the replacements were read");
  } finally {
    writer.kill("SIGKILL");
    await writer.status;
    // A printf or mv the loop had started may still be finishing: let it, then clean up.
    await new Promise((done) => setTimeout(done, 100));
    await Deno.remove(dir, { recursive: true });
  }
});
