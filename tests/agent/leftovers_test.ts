// What a crash leaves beside the config goes at the next command that loads it, whichever
// (docs/configuration.md, What the agent writes). A kill -9 inside the save's fsync leaves a 0600
// temporary file holding the new sensor token; before, only a later successful enrollment removed
// it, so after a 77 it stayed for good. In the layout of support/shipped.ts, under the shipped
// `-P=agent` set, as root and as uid 65534: the kill lands through strace's fault injection, then
// `status`, `inventory` or a `run` that ends in 77 must remove the file. A temporary file whose
// writer still holds the config lock is a live writer's, and stays.
import assert from "node:assert/strict";
import { join } from "node:path";
import { newToken, readableCopy } from "../support/agent.ts";
import { enrolled, startBackend } from "../support/backend.ts";
import { listing } from "../support/seed.ts";
import {
  AGENT_MAIN,
  type RunHow,
  type ShippedHost,
  shippedHost,
  shippedLayoutUnavailable,
} from "../support/shipped.ts";
import { unavailable as commandUnavailable } from "../support/wrapped.ts";

const unavailable = await shippedLayoutUnavailable() ??
  await commandUnavailable("strace", ["-qq", "-f", "-o", "/dev/null", "true"]) ??
  await commandUnavailable("setpriv", ["--version"]);
const SHIPPED = ["-P=agent"];
/** The first fsync of an enrollment is the save's, of its temporary file (the check uses fdatasync). */
const KILL_IN_FSYNC = [
  ...["strace", "-qq", "-f", "-o", "/dev/null"], // the trace would hold the token: to /dev/null
  ...["-e", "trace=fsync", "-e", "inject=fsync:signal=SIGKILL"],
];

const temps = async (host: ShippedHost) =>
  (await listing(host.etc)).filter((name) => name.endsWith(".tmp"));

/**
 * Enrolls in `host` and kills the agent inside the save's fsync: the config is the old one, and
 * a temporary file beside it holds the new sensor token. `how` runs it as another uid.
 */
async function killDuringSave(host: ShippedHost, how: RunHow, script: string): Promise<void> {
  const sensorToken = newToken("sensor");
  await using backend = startBackend(() => enrolled(sensorToken));
  const config = join(host.etc, "sensor-agent.env");
  await Deno.writeTextFile(
    config,
    `BACKEND_URL=${backend.url}\nINSTALL_TOKEN=${newToken("install")}\n`,
  );
  const owner = await Deno.stat(host.etc); // the agent's user owns its directory and config
  await Deno.chown(config, owner.uid, owner.gid);
  await Deno.chmod(config, 0o600);
  const before = await Deno.readTextFile(config);
  const killed = await host.run(SHIPPED, script, ["enroll"], {}, {
    ...how,
    wrapper: [...KILL_IN_FSYNC, ...how.wrapper ?? []],
  });
  assert.equal(killed.signal, "SIGKILL", `not killed (exit ${killed.code}): ${killed.stderr}`);
  assert.equal(await Deno.readTextFile(config), before, "the old file");
  const left = await temps(host);
  assert.equal(left.length, 1, `temporary files: ${left.length}`);
  const text = await Deno.readTextFile(join(host.etc, left[0]));
  assert.ok(text.includes(`SENSOR_TOKEN=${sensorToken}\n`), "the leftover holds the sensor token");
  assert.equal((await Deno.stat(join(host.etc, left[0]))).mode! & 0o777, 0o600);
}

/** What each command must end in on the killed config (not enrolled, a backend that says 401). */
const COMMANDS: [string, number][] = [["status", 1], ["inventory", 0], ["run", 77], ["enroll", 77]];

for (const [command, exit] of COMMANDS) {
  Deno.test({
    name:
      `leftovers: after a kill -9 in the save's fsync, \`${command}\` removes the token's temp file`,
    ignore: unavailable !== undefined,
    async fn() {
      await using host = await shippedHost();
      await killDuringSave(host, {}, AGENT_MAIN);
      // The install token was spent by the killed run: the backend now refuses it.
      await using backend = startBackend(() => new Response("spent", { status: 401 }));
      const config = join(host.etc, "sensor-agent.env");
      const text = await Deno.readTextFile(config);
      await Deno.writeTextFile(
        config,
        text.replace(/^BACKEND_URL=.*$/m, `BACKEND_URL=${backend.url}`),
      );
      const run = await host.run(SHIPPED, AGENT_MAIN, [command], {}, { timeoutMs: 20_000 });
      assert.equal(run.code, exit, run.stderr);
      assert.deepEqual(await temps(host), [], "the leftover is gone");
      assert.match(run.stderr, /INFO removed temporary files a crash had left beside the config/);
    },
  });
}

Deno.test({
  name: "leftovers: as uid 65534, its own leftover goes at its next `status`",
  ignore: unavailable !== undefined,
  async fn() {
    await using host = await shippedHost();
    await using code = await readableCopy();
    await Deno.chown(host.etc, 65534, 65534);
    const how: RunHow = {
      wrapper: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
      cwd: code.dir,
    };
    await killDuringSave(host, how, code.main);
    const status = await host.run(SHIPPED, code.main, ["status"], {}, how);
    assert.equal(status.code, 1, status.stderr);
    assert.deepEqual(await temps(host), []);
  },
});

Deno.test({
  name: "leftovers: a temp file whose writer holds the config lock is left alone",
  ignore: unavailable !== undefined,
  async fn() {
    await using host = await shippedHost();
    await killDuringSave(host, {}, AGENT_MAIN);
    const [leftover] = await temps(host);
    // A live writer: it holds the lock for as long as its temporary file exists.
    using lock = await Deno.open(join(host.etc, "sensor-agent.env.lock"), {
      read: true,
      write: true,
    });
    await lock.lock(true);
    const busy = await host.run(SHIPPED, AGENT_MAIN, ["status"], {}, { timeoutMs: 20_000 });
    assert.equal(busy.code, 1, busy.stderr);
    assert.equal(busy.timedOut, false, "status waited for the lock");
    assert.deepEqual(await temps(host), [leftover], "the writer's file stays");
    await lock.unlock();
    const free = await host.run(SHIPPED, AGENT_MAIN, ["status"], {}, { timeoutMs: 20_000 });
    assert.equal(free.code, 1, free.stderr);
    assert.deepEqual(await temps(host), [], "once the lock is free, it is a leftover");
  },
});

Deno.test({
  name: "leftovers: a link or a directory named like a temp file is not the agent's, and stays",
  ignore: unavailable !== undefined,
  async fn() {
    await using host = await shippedHost();
    await Deno.writeTextFile(
      join(host.etc, "sensor-agent.env"),
      "BACKEND_URL=http://127.0.0.1:9\n",
    );
    await Deno.writeTextFile(join(host.etc, "kept"), "kept\n");
    await Deno.symlink("kept", join(host.etc, ".sensor-agent.env.123.tmp"));
    await Deno.mkdir(join(host.etc, ".sensor-agent.env.456.tmp"));
    await Deno.writeTextFile(join(host.etc, ".sensor-agent.env.789.tmp"), "a real leftover\n");
    const run = await host.run(SHIPPED, AGENT_MAIN, ["status"], {}, { timeoutMs: 20_000 });
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(await temps(host), [".sensor-agent.env.123.tmp", ".sensor-agent.env.456.tmp"]);
    assert.equal(await Deno.readTextFile(join(host.etc, "kept")), "kept\n");
  },
});
