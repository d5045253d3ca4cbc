// One reading path (docs/protocol.md, Interfaces): the enrollment and every heartbeat report the
// same interfaces with the same flags, from whatever the agent can read. On a machine without the
// /host mounts (support/shipped.ts with `{ mounts: false }`: a laptop), run with every permission
// (-A), enrollment read /proc and /sys but each beat after it sent two interfaces with flags false
// and counters 0: dropping write and env after enrollment ended "every permission", the only grant
// under which Deno reads /proc and /sys. Under the shipped set both fall back alike, and the
// warning's advice is something a user can do.
import assert from "node:assert/strict";
import { join } from "node:path";
import { newToken } from "../support/agent.ts";
import {
  beatAccepted,
  enrolled,
  routes,
  type SeenRequest,
  startBackend,
  type TestBackend,
} from "../support/backend.ts";
import {
  runUntilBeats,
  type ShippedHost,
  shippedHost,
  shippedLayoutUnavailable,
} from "../support/shipped.ts";

const unavailable = await shippedLayoutUnavailable();
const isBeat = (r: SeenRequest) => r.path === "/api/sensors/heartbeat";

interface Reported {
  name: string;
  isLoopback: boolean;
  isUp: boolean;
  isVirtual: boolean;
  isWireless: boolean;
  bytesRecv: number;
  bytesSent: number;
}

/** What must be the same in the enrollment and every beat: each interface and its flags. */
const flagsOf = (interfaces: Reported[]) =>
  interfaces.map(({ name, isLoopback, isUp, isVirtual, isWireless }) => ({
    name,
    isLoopback,
    isUp,
    isVirtual,
    isWireless,
  }));

/** Runs `run` in `host` with `flags` until the backend has the enrollment and three beats. */
async function enrollAndBeat(host: ShippedHost, flags: string[], backend: TestBackend) {
  await Deno.writeTextFile(
    join(host.etc, "sensor-agent.env"),
    `BACKEND_URL=${backend.url}\nINSTALL_TOKEN=${newToken("install")}\n`,
    { mode: 0o600 },
  );
  const { code, stderr } = await runUntilBeats(host, flags, backend, 3, { LOG_LEVEL: "debug" });
  assert.equal(code, 0, stderr);
  const [enrollment, ...rest] = backend.requests;
  const beats = rest.filter(isBeat);
  assert.ok(beats.length >= 3, `${beats.length} heartbeats: ${stderr}`);
  const interfaces = (r: SeenRequest) => JSON.parse(r.body).interfaces as Reported[];
  return { enrollment: interfaces(enrollment), beats: beats.map(interfaces), stderr };
}

const backendOf = () =>
  startBackend(routes(() => enrolled(newToken("sensor"), 1), () => beatAccepted(1)));

Deno.test({
  name: "reading path: without /host mounts, under -A, every beat reports what enrollment did",
  ignore: unavailable !== undefined,
  async fn() {
    await using backend = backendOf();
    await using host = await shippedHost({ mounts: false });
    const { enrollment, beats } = await enrollAndBeat(host, ["-A"], backend);
    // Read from /proc and /sys: every interface, loopback among them, up, with counters.
    assert.ok(enrollment.some((i) => i.isLoopback && i.isUp), JSON.stringify(enrollment));
    assert.ok(enrollment.some((i) => i.bytesRecv > 0), "real counters at enrollment");
    for (const beat of beats) {
      assert.deepEqual(flagsOf(beat), flagsOf(enrollment));
      for (const [i, iface] of beat.entries()) {
        assert.ok(iface.bytesRecv >= enrollment[i].bytesRecv, `${iface.name}: counters went back`);
        assert.ok(iface.bytesSent >= enrollment[i].bytesSent, `${iface.name}: counters went back`);
      }
      assert.ok(beat.some((i) => i.bytesRecv > 0), "real counters in every beat");
    }
  },
});

Deno.test({
  name: "reading path: without /host mounts, under -P=agent, enrollment and beats fall back alike",
  ignore: unavailable !== undefined,
  async fn() {
    await using backend = backendOf();
    await using host = await shippedHost({ mounts: false });
    const { enrollment, beats, stderr } = await enrollAndBeat(host, ["-P=agent"], backend);
    for (const beat of beats) assert.deepEqual(beat, enrollment);
    // Section 5: from the addresses alone; loopback by its address, every other flag false (isUp
    // included: unknown, not down), counters 0 (not measured).
    assert.ok(enrollment.some((i) => i.isLoopback), JSON.stringify(enrollment));
    for (const iface of enrollment) {
      assert.deepEqual(
        [iface.isUp, iface.isVirtual, iface.isWireless, iface.bytesRecv, iface.bytesSent],
        [false, false, false, 0, 0],
        iface.name,
      );
    }
    // One warning, with advice a user can follow: never a grant of /proc, which Deno refuses.
    const warnings = stderr.split("\n").filter((l) => l.includes("flags and counters are missing"));
    assert.equal(warnings.length, 1, stderr);
    assert.match(warnings[0], /\/proc\/net\/dev cannot be read \(not granted\)/);
    assert.match(
      warnings[0],
      /bind-mount the host's \/proc and \/sys read-only at \/host\/proc and \/host\/sys, as the systemd unit and the compose file do \(on a workstation, `deno task try` does it for you\)/,
    );
    assert.doesNotMatch(warnings[0], /grant read of/);
  },
});

Deno.test({
  name: "reading path: with the /host mounts, under -A, the permission drop happens as shipped",
  ignore: unavailable !== undefined,
  async fn() {
    await using backend = backendOf();
    await using host = await shippedHost();
    const { enrollment, beats, stderr } = await enrollAndBeat(host, ["-A"], backend);
    // /host/proc is read through a bind mount, which a narrower set still reads: dropping is safe.
    assert.match(stderr, /DEBUG dropped permissions no longer needed dropped=env/);
    for (const beat of beats) assert.deepEqual(flagsOf(beat), flagsOf(enrollment));
  },
});
