// Crash consistency of persistence (docs/configuration.md): "a crash at any instant leaves the old
// file or the new one, never a torn one". The real main.ts, under its scoped test permissions, is
// killed with SIGKILL at exact system calls of the write (strace's fault injection delivers the
// signal on entry to the call, before it runs) and at random instants around it (a backend that
// fires the kill a random delay after it received the enrollment request). After every kill the
// config must parse to exactly the old or the new content, with at most one SENSOR_TOKEN line, and
// the next start must end enrolled with a clean directory. No hook in lib/: strace and kill -9
// only.
//
// strace counts injections per thread, and Deno runs file operations on a pool of threads, so a
// `when=N` on a busy call (openat, write) cannot name one step. The injection points below are the
// calls that occur exactly once in an enrollment, or once on a path given with -P: those land on
// one step every time. The random sweep covers the instants in between (the temp file's write).
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseEnvFile, withSensorToken } from "../../lib/config/mod.ts";
import { agentCommand, newToken, runAgent } from "../support/agent.ts";
import { enrolled, startBackend } from "../support/backend.ts";
import { listing, seed } from "../support/seed.ts";
import { tempDir } from "../support/tempdir.ts";
import { finish, runWrapped, unavailable } from "../support/wrapped.ts";

const isRoot = Deno.uid() === 0;
const straceMissing = await unavailable("strace", ["-qq", "-f", "-o", "/dev/null", "true"]);
if (straceMissing !== undefined) {
  console.log(`skipped: crash_test.ts (strace cases): ${straceMissing}`);
}

/** A config the agent enrolls on, the content before and the exact content a completed write gives. */
async function crashSetup(backendUrl: string, sensorToken: string, force: boolean) {
  const s = await seed(backendUrl);
  let before = s.before;
  if (force) {
    // The harder rewrite: CRLF, an exported token replaced in place, another owner to keep.
    before = `# managed by hand\r\nexport SENSOR_TOKEN=${newToken("sensor")}\r\nINSTALL_TOKEN=${
      newToken("install")
    }\r\nBACKEND_URL=${backendUrl}\r\n`;
    await Deno.writeTextFile(s.config, before);
    if (isRoot) await Deno.chown(s.config, 65534, 65534);
  }
  const after = withSensorToken(parseEnvFile(before, s.config), sensorToken);
  const args = force ? ["enroll", "--force", ...s.args] : ["enroll", ...s.args];
  return { ...s, before, after, args, owner: force && isRoot ? 65534 : 0 };
}
type CrashSetup = Awaited<ReturnType<typeof crashSetup>>;

/** The state a kill left: exactly the old or the new content, never anything else. */
async function stateAfterKill(c: CrashSetup): Promise<"old" | "new"> {
  const text = await Deno.readTextFile(c.config);
  const lines = parseEnvFile(text, c.config); // throws on a torn line
  const tokens = lines.filter((line) => line.key === "SENSOR_TOKEN").length;
  assert.ok(tokens <= 1, `${tokens} SENSOR_TOKEN lines`);
  assert.ok(text === c.before || text === c.after, `neither old nor new: ${text.length} bytes`);
  return text === c.before ? "old" : "new";
}

/** The next start after a kill: exit 0, the new content, 0600, owner kept, nothing left behind. */
async function assertRecovers(c: CrashSetup): Promise<void> {
  const run = await runAgent(c.args.filter((arg) => arg !== "--force"), c.options);
  assert.equal(run.code, 0, run.stderr);
  const text = await Deno.readTextFile(c.config);
  if (text !== c.after) {
    // Killed before the rename: `enroll --force` must run again to replace the old token.
    assert.equal(text, c.before);
    const again = await runAgent(c.args, c.options);
    assert.equal(again.code, 0, again.stderr);
  }
  assert.equal(await Deno.readTextFile(c.config), c.after);
  const info = await Deno.stat(c.config);
  assert.equal(info.mode! & 0o777, 0o600);
  if (isRoot) assert.equal(info.uid, c.owner);
  assert.deepEqual(await listing(c.dir.path), ["sensor-agent.env", "sensor-agent.env.lock"]);
}

/**
 * One exact kill: strace arguments naming the call, the file it must leave, and the temporary file
 * it must leave beside it, which proves where the kill landed: none, the write check's (zeros), or
 * the write's own (the new content, not yet renamed).
 */
interface KillPoint {
  readonly at: string;
  readonly strace: (c: CrashSetup) => string[];
  readonly leaves: "old" | "new";
  readonly temp: "none" | "check" | "new";
  readonly forceOnly?: boolean;
}

const inject = (call: string) => ["-e", `trace=${call}`, "-e", `inject=${call}:signal=SIGKILL`];
const KILL_POINTS: KillPoint[] = [
  {
    at: "taking the config lock (flock)",
    strace: (c) => ["-P", `${c.config}.lock`, ...inject("flock")],
    leaves: "old",
    temp: "none",
  },
  {
    at: "removing the write check's temporary file (unlink)",
    strace: () => inject("unlink"),
    leaves: "old",
    temp: "check",
  },
  {
    at: "listing the directory for stale temporary files (getdents64)",
    strace: (c) => ["-P", c.dir.path, ...inject("getdents64")],
    leaves: "old",
    temp: "none",
  },
  {
    at: "chmod of the written temporary file",
    strace: () => inject("chmod"),
    leaves: "old",
    temp: "new",
  },
  {
    at: "chown of the write check's temporary file to the old owner",
    strace: () => inject("chown"),
    leaves: "old",
    temp: "check",
    forceOnly: true,
  },
  {
    // Both chowns run on the main thread (chownSync), so the second one is the write's own.
    at: "chown of the temporary file to the old owner",
    strace: () => ["-e", "trace=chown", "-e", "inject=chown:signal=SIGKILL:when=2"],
    leaves: "old",
    temp: "new",
    forceOnly: true,
  },
  { at: "fsync of the temporary file", strace: () => inject("fsync"), leaves: "old", temp: "new" },
  { at: "the rename over the config", strace: () => inject("rename"), leaves: "old", temp: "new" },
  {
    at: "fsync of the directory",
    strace: (c) => ["-P", c.dir.path, ...inject("fsync")],
    leaves: "new",
    temp: "none",
  },
];

/** What temporary file a kill left: none, the write check's (all zeros), or the new content. */
async function tempLeft(c: CrashSetup): Promise<KillPoint["temp"]> {
  const temps = (await listing(c.dir.path)).filter((name) => name.endsWith(".tmp"));
  if (temps.length === 0) return "none";
  assert.equal(temps.length, 1, `temporary files: ${temps.length}`);
  const bytes = await Deno.readFile(c.dir.join(temps[0]));
  if (bytes.length > 0 && bytes.every((b) => b === 0)) return "check";
  assert.equal(new TextDecoder().decode(bytes), c.after, "a temporary file of neither kind");
  return "new";
}

for (const force of [false, true]) {
  for (const point of KILL_POINTS.filter((p) => force || !p.forceOnly)) {
    if (point.forceOnly && !isRoot) continue; // chown only happens when the owner differs
    const scenario = force ? "enroll --force over an exported CRLF token" : "first enrollment";
    Deno.test({
      name: `crash: ${scenario}, kill -9 at ${point.at}: the ${point.leaves} file, then recovery`,
      ignore: straceMissing !== undefined,
      async fn() {
        const sensorToken = newToken("sensor");
        await using backend = startBackend(() => enrolled(sensorToken));
        const c = await crashSetup(backend.url, sensorToken, force);
        await using _ = c.dir;
        // strace writes its trace to /dev/null: the trace would show the token in write() buffers.
        const run = await runWrapped(
          ["strace", "-qq", "-f", "-o", "/dev/null", ...point.strace(c)],
          c.args,
          c.options,
        );
        assert.equal(run.signal, "SIGKILL", `not killed (exit ${run.code}): ${run.stderr}`);
        assert.equal(await stateAfterKill(c), point.leaves);
        assert.equal(await tempLeft(c), point.temp, "the kill landed elsewhere");
        await assertRecovers(c);
      },
    });
  }
}

Deno.test("crash: kill -9 while the backend holds the reply: the old file, then recovery", async () => {
  const sensorToken = newToken("sensor");
  const agent: { child?: Deno.ChildProcess } = {};
  let kills = 0;
  await using backend = startBackend(async () => {
    if (kills++ === 0) {
      // The token is spent at the backend, the agent dies before the reply: nothing is saved.
      agent.child?.kill("SIGKILL");
      await agent.child?.status;
    }
    return enrolled(sensorToken);
  });
  const c = await crashSetup(backend.url, sensorToken, false);
  await using _ = c.dir;
  agent.child = agentCommand(c.args, c.options).spawn();
  const run = await finish(agent.child);
  assert.equal(run.signal, "SIGKILL");
  assert.equal(await stateAfterKill(c), "old");
  await assertRecovers(c);
});

/** Faults that make the write fail without a kill: `enroll` says so (73) and the file stays. */
for (const [call, errno] of [["fsync", "EIO"], ["rename", "EIO"], ["chmod", "EPERM"]]) {
  Deno.test({
    name: `crash: ${call} failing with ${errno}: enroll exits 73, the old file stays, no temp left`,
    ignore: straceMissing !== undefined,
    async fn() {
      const sensorToken = newToken("sensor");
      await using backend = startBackend(() => enrolled(sensorToken));
      const c = await crashSetup(backend.url, sensorToken, false);
      await using _ = c.dir;
      const run = await runWrapped(
        [
          "strace",
          "-qq",
          "-f",
          "-o",
          "/dev/null",
          "-e",
          `trace=${call}`,
          "-e",
          `inject=${call}:error=${errno}`,
        ],
        c.args,
        c.options,
      );
      assert.equal(run.code, 73, run.stderr);
      assert.match(
        run.stderr,
        /ERROR enrolled, but the sensor token could not be saved: cannot write /,
      );
      assert.equal(await Deno.readTextFile(c.config), c.before);
      assert.deepEqual(await listing(c.dir.path), ["sensor-agent.env", "sensor-agent.env.lock"]);
    },
  });
}

Deno.test({
  name: "crash: the write check's fdatasync failing with EIO: enroll exits 73 and sends nothing",
  ignore: straceMissing !== undefined,
  async fn() {
    await using backend = startBackend(() => enrolled(newToken("sensor")));
    const c = await crashSetup(backend.url, newToken("sensor"), false);
    await using _ = c.dir;
    await using traced = await tempDir();
    const calls = join(traced.path, "strace.out");
    const strace = ["strace", "-qq", "-f", "-o", calls];
    const run = await runWrapped(
      [...strace, "-e", "trace=fdatasync,connect", "-e", "inject=fdatasync:error=EIO"],
      c.args,
      c.options,
    );
    assert.equal(run.code, 73, run.stderr);
    assert.match(
      run.stderr,
      /ERROR cannot write the config \S+: Input\/output error.*nothing was sent/,
    );
    // Nothing reached the backend, not even a connection (the sensor IP's dial comes after).
    assert.equal(backend.requests.length, 0);
    const port = new URL(backend.url).port;
    assert.ok((await Deno.readTextFile(calls)).includes("fdatasync("), "strace saw no fdatasync");
    assert.doesNotMatch(
      await Deno.readTextFile(calls),
      new RegExp(`connect\\(.*htons\\(${port}\\)`),
    );
    assert.doesNotMatch(run.stderr, /WARN (hostname|osInfo):/); // the host was not looked at
    assert.equal(await Deno.readTextFile(c.config), c.before);
    assert.deepEqual(await listing(c.dir.path), ["sensor-agent.env", "sensor-agent.env.lock"]);
  },
});

/** How many kills the sweep lands; CRASH_KILLS=1000 makes it a soak. Bounded by runs and time. */
const SWEEP_KILLS = Number(Deno.env.get("CRASH_KILLS") ?? "80");
const SWEEP_WORKERS = 2;

Deno.test(`crash: ${SWEEP_KILLS} kills -9 at random instants around persistence: old or new, never torn`, async () => {
  const tally = { old: 0, midWrite: 0, new: 0, finished: 0 };
  const killed = () => tally.old + tally.midWrite + tally.new;
  const deadline = performance.now() + Math.max(60_000, SWEEP_KILLS * 1_000); // a bound, not a goal
  const worker = async () => {
    const sensorToken = newToken("sensor");
    let child: Deno.ChildProcess | undefined;
    let delayMs: number | undefined; // undefined: no kill (calibration)
    let kill: ReturnType<typeof setTimeout> | undefined;
    let requested = 0; // when the backend got the current run's request
    // The backend answers at once; the kill comes `delayMs` after the request arrived.
    await using backend = startBackend(() => {
      requested = performance.now();
      const target = child;
      if (delayMs !== undefined) {
        kill = setTimeout(() => {
          try {
            target?.kill("SIGKILL");
          } catch {
            // it had exited already
          }
        }, delayMs);
      }
      return enrolled(sensorToken);
    });
    const c = await crashSetup(backend.url, sensorToken, false);
    await using _ = c.dir;
    const runOnce = async () => {
      child = agentCommand(c.args, c.options).spawn();
      const run = await finish(child);
      clearTimeout(kill);
      return run;
    };
    // Calibrate: from the request to the end of a run that nobody kills.
    let windowMs = 0;
    for (let i = 0; i < 3; i++) {
      await Deno.writeTextFile(c.config, c.before);
      const run = await runOnce();
      assert.equal(run.code, 0, run.stderr);
      windowMs = Math.max(windowMs, performance.now() - requested);
    }
    await Deno.writeTextFile(c.config, c.before);
    for (let runs = 0; killed() < SWEEP_KILLS && runs < 3 * SWEEP_KILLS; runs++) {
      if (performance.now() > deadline) break;
      const tempsBefore = (await listing(c.dir.path)).filter((name) => name.endsWith(".tmp"));
      delayMs = Math.random() * windowMs;
      const run = await runOnce();
      const state = await stateAfterKill(c);
      if (run.signal === null) {
        assert.equal(run.code, 0, run.stderr);
        assert.equal(state, "new", "a run that was not killed finished its write");
        tally.finished++;
        windowMs *= 0.9; // the kills come too late: aim earlier
      } else {
        assert.equal(run.signal, "SIGKILL");
        const temps = (await listing(c.dir.path)).filter((name) => name.endsWith(".tmp"));
        if (state === "new") tally.new++;
        else if (temps.some((name) => !tempsBefore.includes(name))) tally.midWrite++;
        else tally.old++;
        windowMs *= 1.05; // converges where about a third of the runs finish first
      }
      if (state === "new") await Deno.writeTextFile(c.config, c.before);
    }
    delayMs = undefined; // the recovery runs are not killed
    await assertRecovers(c);
  };
  await Promise.all(Array.from({ length: SWEEP_WORKERS }, worker));
  console.log(
    `crash sweep: ${killed()} kills survived (old file ${tally.old}, old file and a temp file left ${tally.midWrite}, new file ${tally.new}); ${tally.finished} runs finished before their kill`,
  );
  assert.ok(killed() >= Math.min(SWEEP_KILLS, 20), `only ${killed()} runs were killed in time`);
});
