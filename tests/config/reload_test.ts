// reloadConfig, the re-read of enrollment under a config lock taken at once: the configuration
// already loaded when the env file is as it was, and a fresh load whenever the file, where it
// leads, the install-token file, or a load from another environment could make the answer differ.
// What a path setting names is not resolved again (a wait for the lock loads afresh instead).
import assert from "node:assert/strict";
import { loadConfig, reloadConfig } from "../../lib/config/mod.ts";
import { tempDir } from "../support/tempdir.ts";

const SETTINGS = "BACKEND_URL=https://backend.example:5009\nINSTALL_TOKEN=install-reload-0123\n";

async function envFile(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
}

/** Makes the link at `link` lead to `target` instead, as an operator re-pointing it would. */
async function repoint(link: string, target: string): Promise<void> {
  await Deno.remove(link);
  await Deno.symlink(target, link);
}

Deno.test("reloadConfig: the same configuration while the env file holds the same text", async () => {
  await using dir = await tempDir();
  const path = dir.join("sensor-agent.env");
  await envFile(path, SETTINGS);
  const config = await loadConfig(path);
  assert.equal(await reloadConfig(config), config);
  // Rewritten with the same bytes (a new inode): still the same text, still the same answer.
  await envFile(`${path}.new`, SETTINGS);
  await Deno.rename(`${path}.new`, path);
  assert.equal(await reloadConfig(config), config);
});

Deno.test("reloadConfig: loaded afresh when another agent saved its token meanwhile", async () => {
  await using dir = await tempDir();
  const path = dir.join("sensor-agent.env");
  await envFile(path, SETTINGS);
  const config = await loadConfig(path);
  await envFile(path, `${SETTINGS}SENSOR_TOKEN=sensor-reload-4567\n`);
  const now = await reloadConfig(config);
  assert.notEqual(now, config);
  assert.equal(now.sensorToken, "sensor-reload-4567");
  assert.equal(config.sensorToken, undefined);
});

Deno.test("reloadConfig: loaded afresh when the config path now leads to another file", async () => {
  await using dir = await tempDir();
  const path = dir.join("sensor-agent.env");
  await envFile(dir.join("a.env"), SETTINGS);
  await envFile(dir.join("b.env"), SETTINGS);
  await Deno.symlink(dir.join("a.env"), path);
  const config = await loadConfig(path);
  assert.equal(config.configTarget, dir.join("a.env"));
  await repoint(path, dir.join("b.env"));
  const now = await reloadConfig(config);
  assert.notEqual(now, config);
  assert.equal(now.configTarget, dir.join("b.env"));
});

Deno.test("reloadConfig: loaded afresh, token file read again, when INSTALL_TOKEN_FILE names it", async () => {
  await using dir = await tempDir();
  const path = dir.join("sensor-agent.env");
  const tokenFile = dir.join("install_token");
  await envFile(tokenFile, "install-from-file-0001\n");
  await envFile(
    path,
    `BACKEND_URL=https://backend.example:5009\nINSTALL_TOKEN_FILE=${tokenFile}\n`,
  );
  const config = await loadConfig(path);
  assert.equal(config.installToken, "install-from-file-0001");
  await envFile(tokenFile, "install-from-file-0002\n");
  const now = await reloadConfig(config);
  assert.notEqual(now, config);
  assert.equal(now.installToken, "install-from-file-0002");
});

Deno.test("reloadConfig: a configuration loaded from another environment is loaded afresh", async () => {
  await using dir = await tempDir();
  const path = dir.join("sensor-agent.env");
  await envFile(path, SETTINGS);
  const config = await loadConfig(path, { LOG_LEVEL: "debug" });
  assert.equal(config.logLevel, "debug");
  const now = await reloadConfig(config);
  assert.notEqual(now, config);
  assert.equal(now.logLevel, "info");
});

Deno.test("reloadConfig: what a path setting names is not resolved again; the next load sees it", async () => {
  await using dir = await tempDir();
  const path = dir.join("sensor-agent.env");
  await envFile(dir.join("hostname-a"), "sensor-a\n");
  await envFile(dir.join("hostname-b"), "sensor-b\n");
  await Deno.symlink(dir.join("hostname-a"), dir.join("hostname"));
  await envFile(path, `${SETTINGS}HOST_HOSTNAME_FILE=${dir.join("hostname")}\n`);
  const config = await loadConfig(path);
  assert.equal(config.hostnameFile, dir.join("hostname-a"));
  await repoint(dir.join("hostname"), dir.join("hostname-b"));
  assert.equal(await reloadConfig(config), config);
  assert.equal((await loadConfig(path)).hostnameFile, dir.join("hostname-b"));
});
