// A full disk under the config (docs/configuration.md, What the agent writes): the config directory
// is a 64 KiB tmpfs, filled to the last page, mounted in a private mount namespace (`unshare -m`)
// so that nothing of it reaches the host's mount table and it vanishes with the agent. The agent
// runs under its scoped test permissions; only the wrapper (unshare, mount, sh) is privileged.
// Needs root and says it skipped otherwise.
import assert from "node:assert/strict";
import { newToken } from "../support/agent.ts";
import { beatAccepted, enrolled, routes, startBackend } from "../support/backend.ts";
import { FIXTURE_READS, HOST_ENV } from "../support/seed.ts";
import { tempDir } from "../support/tempdir.ts";
import { finish, unavailable, wrappedCommand } from "../support/wrapped.ts";

const skip = Deno.uid() !== 0
  ? "needs root to mount a tmpfs"
  : await unavailable("unshare", ["-m", "--propagation", "private", "true"]);
if (skip !== undefined) console.log(`skipped: diskfull_test.ts: ${skip}`);

// In the namespace: mount the tmpfs on the config dir, copy the config in, fill the rest, run the
// agent (relaying SIGTERM to it), then copy out what is left on the tmpfs before it disappears.
const SCRIPT = `set -e
conf=$1; stage=$2; shift 2
mount -t tmpfs -o size=64k,mode=0700 sensor-agent-diskfull "$conf"
cp "$stage/sensor-agent.env" "$conf/sensor-agent.env"
cat /dev/zero > "$conf/filler" 2>/dev/null || true
set +e
"$@" &
agent=$!
stopped=
trap 'stopped=1; kill -TERM "$agent"' TERM
wait "$agent"; code=$?
if [ -n "$stopped" ]; then wait "$agent"; code=$?; fi
cp "$conf/sensor-agent.env" "$stage/after.env"
ls -A "$conf" > "$stage/after.ls"
exit "$code"
`;

/** A config dir to mount over and a staging dir that holds the config before and after. */
async function fullDisk(backendUrl: string) {
  const dir = await tempDir();
  const conf = dir.join("conf");
  const stage = dir.join("stage");
  await Deno.mkdir(conf);
  await Deno.mkdir(stage);
  const before = `SENSOR_ID=sensor-1\nINSTALL_TOKEN=${
    newToken("install")
  }\nBACKEND_URL=${backendUrl}\n`;
  await Deno.writeTextFile(`${stage}/sensor-agent.env`, before);
  const wrapper = [
    "unshare",
    "-m",
    "--propagation",
    "private",
    "sh",
    "-c",
    SCRIPT,
    "sh",
    conf,
    stage,
  ];
  const options = { read: FIXTURE_READS, write: [conf], env: { ...HOST_ENV } };
  const config = `${conf}/sensor-agent.env`;
  return {
    dir,
    before,
    start: (command: string) =>
      wrappedCommand(wrapper, [command, "--config", config], options).spawn(),
    after: async () => ({
      config: await Deno.readTextFile(`${stage}/after.env`),
      names: (await Deno.readTextFile(`${stage}/after.ls`)).trim().split("\n").sort(),
    }),
  };
}

Deno.test({
  name: "disk full: run warns once, keeps the old file intact, and heartbeats on",
  ignore: skip !== undefined,
  async fn() {
    const sensorToken = newToken("sensor");
    await using backend = startBackend(
      routes(() => enrolled(sensorToken, 1), () => beatAccepted()),
    );
    const disk = await fullDisk(backend.url);
    await using _ = disk.dir;
    const child = disk.start("run");
    const deadline = performance.now() + 15_000;
    const beats = () => backend.requests.filter((r) => r.path === "/api/sensors/heartbeat");
    while (beats().length < 2 && performance.now() < deadline) {
      await new Promise((done) => setTimeout(done, 50));
    }
    child.kill("SIGTERM");
    const run = await finish(child);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(beats().length >= 2, `${beats().length} heartbeats: ${run.stderr}`);
    for (const beat of beats()) {
      assert.equal(beat.headers.get("authorization"), `Bearer ${sensorToken}`);
    }
    const warnings = run.stderr.match(
      /WARN the sensor token could not be saved; going on with it in memory path=\S+ reason=.*No space left on device/g,
    );
    assert.equal(warnings?.length, 1, run.stderr);
    const after = await disk.after();
    assert.equal(after.config, disk.before, "the original file is intact");
    assert.deepEqual(after.names, ["filler", "sensor-agent.env", "sensor-agent.env.lock"]);
  },
});

Deno.test({
  name: "disk full: enroll exits 73 before it sends anything, so the install token is not spent",
  ignore: skip !== undefined,
  async fn() {
    await using backend = startBackend(() => enrolled(newToken("sensor")));
    const disk = await fullDisk(backend.url);
    await using _ = disk.dir;
    const run = await finish(disk.start("enroll"));
    assert.equal(run.code, 73, run.stderr);
    assert.match(
      run.stderr,
      /ERROR cannot write the config \S+sensor-agent\.env: .*No space left on device.*; nothing was sent/,
    );
    assert.equal(backend.requests.length, 0, "the install token was sent");
    const after = await disk.after();
    assert.equal(after.config, disk.before);
    assert.deepEqual(after.names, ["filler", "sensor-agent.env", "sensor-agent.env.lock"]);
  },
});
