// Reading a small file that another process replaces as the agent saves it (lib/store/smallfile.ts):
// a rename over the file between the look and the open is a sibling agent's atomic save, and the
// file it leaves is read, not refused (tests/agent/race_test.ts met it as a rare 78). The files a
// sibling saves (the env file) are read with `resolved`, judged by the open file's own stat. A
// file looked at by its path twice (a host file) is known only when both looks agree: under this
// storm, on one CPU, three looks in a row met a swap (a CI run's refusal), a storm no host file
// meets, so this test reads the way the agent reads its own files.
import assert from "node:assert/strict";
import { join } from "node:path";

const PROBE = new URL("../support/reread_probe.ts", import.meta.url).pathname;

Deno.test("smallfile: a file replaced by rename again and again while it is read is still read, each time whole, even when the reader and the saver share one CPU", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  const path = join(dir, "sensor-agent.env");
  await Deno.writeTextFile(path, "SENSOR_ID=a\n", { mode: 0o600 });
  // Both on CPU 0: the reader's open hands the CPU to the saver, the case that met a swap at
  // every look. The replacing runs in its own process, as a sibling agent's save does.
  const script =
    `while :; do printf 'SENSOR_ID=b\\n' > "$1/t"; chmod 600 "$1/t"; mv -f "$1/t" "$1/sensor-agent.env"; done`;
  const writer = new Deno.Command("taskset", {
    args: ["-c", "0", "sh", "-c", script, "sh", dir],
    stderr: "null",
  }).spawn();
  try {
    const reader = await new Deno.Command("taskset", {
      args: ["-c", "0", Deno.execPath(), "run", "-q", `--allow-read=${dir}`, PROBE, path, "3000"],
      stderr: "inherit",
    }).output();
    assert.equal(reader.code, 0);
    const { seen, refused } = JSON.parse(new TextDecoder().decode(reader.stdout));
    assert.equal(refused, undefined, "no read was refused");
    assert.ok(seen.every((text: string) => /^SENSOR_ID=[ab]\n$/.test(text)), seen.join("|"));
    assert.ok(seen.includes("SENSOR_ID=b\n"), "the replacements were read");
  } finally {
    writer.kill("SIGKILL");
    await writer.status;
    // A printf or mv the loop had started may still be finishing: let it, then clean up.
    await new Promise((done) => setTimeout(done, 100));
    await Deno.remove(dir, { recursive: true });
  }
});
