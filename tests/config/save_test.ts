// The saves of a reporting agent on real files (lib/config/mod.ts; docs/configuration.md, What the
// agent writes): a rotated token replaces the one the agent started with, and nothing else; the
// host binding joins a file enrolled before it existed; neither touches a file whose token another
// writer changed, and neither writes a file that already says what it should.
import assert from "node:assert/strict";
import { saveHostBinding, saveRotatedSensorToken } from "../../lib/config/mod.ts";
import { tempDir } from "../support/tempdir.ts";
import { listing } from "../support/seed.ts";

const BINDING = "0a".repeat(32);

async function envFile(text: string) {
  const dir = await tempDir();
  const path = dir.join("sensor-agent.env");
  await Deno.writeTextFile(path, text, { mode: 0o640 });
  await Deno.chmod(path, 0o640);
  return { dir, path };
}

Deno.test("save: a rotated token replaces the current one, 0600, every other line byte for byte", async () => {
  const { dir, path } = await envFile(
    "A=1\r\nexport SENSOR_TOKEN=old-token-1\r\nINSTALL_TOKEN=kept-1\n",
  );
  await using _ = dir;
  await saveRotatedSensorToken(path, "old-token-1", "new-token-1");
  assert.equal(
    await Deno.readTextFile(path),
    "A=1\r\nexport SENSOR_TOKEN=new-token-1\nINSTALL_TOKEN=kept-1\n",
  );
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.deepEqual(await listing(dir.path), ["sensor-agent.env"]);
});

Deno.test("save: a file that already holds the new token is not written again", async () => {
  const { dir, path } = await envFile("SENSOR_TOKEN=new-token-1\n");
  await using _ = dir;
  const { ino } = await Deno.stat(path);
  await saveRotatedSensorToken(path, "old-token-1", "new-token-1");
  assert.equal((await Deno.stat(path)).ino, ino);
});

Deno.test("save: a file whose token another writer changed is left alone, and the save fails", async () => {
  const { dir, path } = await envFile("SENSOR_TOKEN=someone-elses-1\n");
  await using _ = dir;
  await assert.rejects(
    () => saveRotatedSensorToken(path, "old-token-1", "new-token-1"),
    /no longer the one this agent started with/,
  );
  await assert.rejects(() => saveHostBinding(path, "old-token-1", BINDING), /no longer the one/);
  assert.equal(await Deno.readTextFile(path), "SENSOR_TOKEN=someone-elses-1\n");
});

Deno.test("save: the host binding goes beside the token once; a second save writes nothing", async () => {
  const { dir, path } = await envFile("SENSOR_TOKEN=old-token-1\nB=2");
  await using _ = dir;
  await saveHostBinding(path, "old-token-1", BINDING);
  assert.equal(
    await Deno.readTextFile(path),
    `SENSOR_TOKEN=old-token-1\nSENSOR_HOST_BINDING=${BINDING}\nB=2`,
  );
  const { ino } = await Deno.stat(path);
  await saveHostBinding(path, "old-token-1", BINDING);
  assert.equal((await Deno.stat(path)).ino, ino);
});
