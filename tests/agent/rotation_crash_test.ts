// Crash safety of the token rotation (docs/protocol.md, POST /api/sensors/token; issue 22): the real
// main.ts, killed with SIGKILL at random points of a rotation, 200 times, each time restarted, and
// each restart's first heartbeat must be accepted by the backend (support/protocol_backend.ts,
// which keeps the old token valid until the new one is used and answers the same new token to a
// repeated request). No hook in lib/: kill -9 only.
//
// One short-lived agent per kill: it starts, beats, is asked to rotate, and dies at the point the
// seeded random source picked:
// - at a system call between the reply and the save, or during the save (strace's fault injection
//   delivers SIGKILL on entry to the call, before it runs; each call below happens once per
//   rotation, or once on the path given with -P, so it names one step: see crash_test.ts);
// - while the backend holds the reply: the token is issued, the agent never hears of it;
// - a random delay after the backend received the request: between the reply and the save, during
//   it, or after it;
// - just after the first request made with the new token.
// The next agent is the restart. After every kill: the env file holds the old token or the new
// one, in a line of its own, every other line byte for byte, mode 0600; at most one rotation is
// outstanding; no request ever carries a token the backend does not accept.
import assert from "node:assert/strict";
import { agentCommand } from "../support/agent.ts";
import { startProtocolBackend, until } from "../support/protocol_backend.ts";
import { sensorHost, withTokenReplaced, writeEnrolledFile } from "../support/sensorhost.ts";
import { listing } from "../support/seed.ts";
import { finish, unavailable, wrappedCommand } from "../support/wrapped.ts";

const KILLS = Number(Deno.env.get("ROTATION_CRASH_KILLS") ?? "200");
const SEED = Number(Deno.env.get("ROTATION_CRASH_SEED") ?? "22");
const WORKERS = 2;
const straceMissing = await unavailable("strace", ["-qq", "-f", "-o", "/dev/null", "true"]);
if (straceMissing !== undefined) {
  console.log(`skipped: rotation_crash_test.ts (strace points): ${straceMissing}`);
}

/** mulberry32: a small seeded random source, so a failing sequence of points can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An exact kill: the strace arguments, and what it must leave (the file's token, a temp file). */
interface SyscallPoint {
  readonly kind: "syscall";
  readonly at: string;
  readonly strace: (etc: string) => string[];
  readonly leaves: "old" | "new";
  readonly temp: boolean;
  /** A start that removes a crash's temporary file takes the lock too: this point needs none. */
  readonly cleanStart?: boolean;
}

type KillPoint =
  | SyscallPoint
  | { readonly kind: "held" } // the backend holds the reply and kills: issued, never received
  | { readonly kind: "delay" } // a random delay after the backend received the request
  | { readonly kind: "after use" }; // just after the first request made with the new token

const inject = (call: string) => ["-e", `trace=${call}`, "-e", `inject=${call}:signal=SIGKILL`];
const lock = (etc: string) => `${etc}/sensor-agent.env.lock`;
const SYSCALL_POINTS: SyscallPoint[] = [
  {
    kind: "syscall",
    at: "mkdir before the lock",
    strace: () => inject("mkdir"),
    leaves: "old",
    temp: false,
  },
  {
    kind: "syscall",
    at: "open of the lock file",
    strace: (etc) => ["-P", lock(etc), ...inject("openat")],
    leaves: "old",
    temp: false,
    cleanStart: true,
  },
  {
    kind: "syscall",
    at: "flock",
    strace: (etc) => ["-P", lock(etc), ...inject("flock")],
    leaves: "old",
    temp: false,
    cleanStart: true,
  },
  {
    kind: "syscall",
    at: "chmod of the temporary file",
    strace: () => inject("chmod"),
    leaves: "old",
    temp: true,
  },
  {
    kind: "syscall",
    at: "fsync of the temporary file",
    strace: () => inject("fsync"),
    leaves: "old",
    temp: true,
  },
  {
    kind: "syscall",
    at: "rename over the env file",
    strace: () => inject("rename"),
    leaves: "old",
    temp: true,
  },
  {
    kind: "syscall",
    at: "fsync of the directory",
    strace: (etc) => ["-P", etc, ...inject("fsync")],
    leaves: "new",
    temp: false,
  },
];

/** The point of one kill, from the seeded source: a quarter at system calls, the rest timed. */
function pickPoint(random: () => number, dirty: boolean): KillPoint {
  const r = random();
  if (r < 0.25 && straceMissing === undefined) {
    const points = SYSCALL_POINTS.filter((p) => !(dirty && p.cleanStart));
    return points[Math.floor(random() * points.length)];
  }
  if (r < 0.32) return { kind: "held" };
  if (r < 0.38) return { kind: "after use" };
  return { kind: "delay" };
}

/** The pid of the process strace started: the one to kill if strace's point is never reached. */
function traceeOf(strace: Deno.ChildProcess): number | undefined {
  try {
    const children = Deno.readTextFileSync(`/proc/${strace.pid}/task/${strace.pid}/children`);
    return Number(children.trim().split(" ")[0]) || undefined;
  } catch {
    return undefined;
  }
}

Deno.test(`rotation crash: ${KILLS} kills -9 at random points of a rotation; every restart's first beat is accepted`, async () => {
  const tally = new Map<string, number>();
  const count = (what: string) => tally.set(what, (tally.get(what) ?? 0) + 1);
  const worker = async (kills: number, random: () => number) => {
    await using backend = startProtocolBackend();
    await using host = await sensorHost();
    const sensor = backend.addSensor();
    const template = await writeEnrolledFile(host, backend, sensor);
    host.options.env.LOG_LEVEL = "debug";
    // Every beat asks: a restart whose first beat uses the new token (and so completes the last
    // rotation) is asked again at once.
    sensor.askEveryBeat = true;
    const tokenIn = (text: string) =>
      [sensor.token, sensor.pending].find((t) =>
        t !== undefined && text === withTokenReplaced(template, t)
      );

    /** True once a token issued after exchange `start` has been used. */
    const rotatedSince = (start: number) => {
      const since = backend.exchanges.slice(start);
      const issued = since.findIndex((e) => e.endpoint === "token" && e.status === 200);
      return issued >= 0 && since.slice(issued).some((e) => e.effect === "promoted");
    };

    // How long a rotation takes, from the backend's receipt of the request to the agent's log line
    // that the new token is saved: the window of the timed kills.
    let windowMs = 0;
    for (let i = 0; i < 2; i++) {
      let asked = 0;
      backend.onRequest = (endpoint) => {
        if (endpoint === "token" && asked === 0) asked = Date.now();
      };
      const start = backend.exchanges.length;
      const child = agentCommand(["run", ...host.args], host.options).spawn();
      const run = finish(child);
      await until(() => rotatedSince(start), "a calibration rotation", run);
      child.kill("SIGTERM");
      const { stderr } = await run;
      const saved = Date.parse(/^(\S+) INFO sensor token rotated/m.exec(stderr)![1]);
      windowMs = Math.max(windowMs, (saved - asked) * 1.5 + 5);
    }

    for (let kill = 0; kill < kills; kill++) {
      const start = backend.exchanges.length;
      const dirty = (await listing(host.etc)).some((name) => name.endsWith(".tmp"));
      const startedWith = tokenIn(await Deno.readTextFile(host.config));
      const point = pickPoint(random, dirty);
      const delayMs = random() * windowMs;
      const child = point.kind === "syscall"
        ? wrappedCommand(
          ["strace", "-qq", "-f", "-o", "/dev/null", ...point.strace(host.etc)],
          ["run", ...host.args],
          host.options,
        ).spawn()
        : agentCommand(["run", ...host.args], host.options).spawn();
      const killAgent = () => {
        try {
          if (point.kind !== "syscall") child.kill("SIGKILL");
          else Deno.kill(traceeOf(child) ?? child.pid, "SIGKILL");
        } catch {
          // gone already
        }
      };
      let armed = false;
      backend.onRequest = (endpoint, { bearer }) => {
        if (armed) return;
        if (endpoint === "token" && point.kind === "held") killAgent();
        else if (endpoint === "token" && point.kind === "delay") setTimeout(killAgent, delayMs);
        else if (point.kind !== "after use" || bearer !== sensor.pending) return;
        else setTimeout(killAgent, delayMs % 20);
        armed = true;
      };
      let late = false; // a point never reached fails below instead of hanging the test
      const timer = setTimeout(() => (late = true, killAgent()), 20_000);
      const run = await finish(child);
      clearTimeout(timer);
      backend.onRequest = undefined;

      const where = `kill ${kill} (${point.kind === "syscall" ? point.at : point.kind})`;
      assert.ok(
        !late && (armed || point.kind === "syscall"),
        `${where}: not reached: ${run.stderr}`,
      );
      assert.ok(
        run.signal === "SIGKILL" || run.code === 137,
        `${where}: exit ${run.code}: ${run.stderr}`,
      );
      // The restart (this run) beat first, and the backend accepted it.
      const mine = backend.exchanges.slice(start);
      const first = mine.find((e) => e.endpoint === "heartbeat");
      assert.equal(first?.status, 200, `${where}: the restart's first beat: ${run.stderr}`);
      assert.ok(
        mine.every((e) => e.token !== "unknown"),
        `${where}: a token the backend does not know`,
      );
      assert.ok(
        sensor.issued - sensor.rotations <= 1,
        `${where}: more than one rotation outstanding`,
      );

      const text = await Deno.readTextFile(host.config);
      const token = tokenIn(text);
      assert.ok(token !== undefined, `${where}: neither the old nor the new file`);
      assert.equal((await Deno.stat(host.config)).mode! & 0o777, 0o600);
      const temps = (await listing(host.etc)).filter((name) => name.endsWith(".tmp"));
      assert.ok(temps.length <= 1, `${where}: ${temps.length} temporary files`);
      for (const temp of temps) {
        // Killed while writing it, a temporary file may be cut short: it is never read, only
        // removed by the next start (the next check sees at most the next run's own).
        const written = await Deno.readTextFile(`${host.etc}/${temp}`);
        const whole = withTokenReplaced(template, sensor.pending ?? sensor.token);
        assert.ok(whole.startsWith(written), `${where}: a temporary file of neither kind`);
      }
      // Old: the token this run started with. New: one issued since, saved; used, once a request
      // made with it reached the backend.
      const state = token === startedWith
        ? "old token"
        : token === sensor.pending
        ? "new token saved"
        : "new token saved and used";
      if (point.kind === "syscall") {
        const leaves = state === "old token" ? "old" : "new";
        assert.equal(leaves, point.leaves, `${where}: landed elsewhere`);
        assert.equal(temps.length === 1, point.temp, `${where}: landed elsewhere (temp files)`);
      }
      count(`${point.kind === "syscall" ? point.at : point.kind}: ${state}`);
    }

    // The last restart: it beats, rotates once more, uses the new token, and leaves a clean
    // directory.
    const start = backend.exchanges.length;
    const child = agentCommand(["run", ...host.args], host.options).spawn();
    const run = finish(child);
    await until(() => rotatedSince(start), "a last rotation", run);
    child.kill("SIGTERM");
    assert.equal((await run).code, 0);
    assert.equal(
      backend.exchanges.slice(start).find((e) => e.endpoint === "heartbeat")?.status,
      200,
    );
    assert.ok(tokenIn(await Deno.readTextFile(host.config)), "the file holds a token in use");
    assert.deepEqual(await listing(host.etc), ["sensor-agent.env", "sensor-agent.env.lock"]);
  };
  const started = performance.now();
  await Promise.all(
    Array.from(
      { length: WORKERS },
      (_, i) => worker(Math.floor((KILLS + i) / WORKERS), seeded(SEED + i)),
    ),
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const lines = [...tally].sort().map(([what, n]) => `  ${what}: ${n}`);
  console.log(
    `rotation crash: ${KILLS} kills in ${seconds} s (seed ${SEED}):\n${lines.join("\n")}`,
  );
});
