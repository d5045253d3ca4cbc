// The agent on a real network stack (docs/protocol.md, Host facts; docs/protocol.md, Interfaces): a
// sensor namespace with veth pairs in every state, a backend in a second namespace, the real
// main.ts enrolling across them. Needs root; skipped with the reason printed elsewhere. Addresses
// are documentation ranges that exist only inside the namespaces this test creates; nothing leaves
// them.
import assert from "node:assert/strict";
import type { NetworkInterface } from "../../lib/host/mod.ts";
import { newToken } from "../support/agent.ts";
import {
  addVeth,
  createNamespace,
  hostRoots,
  type KernelLink,
  kernelLinks,
  type NetNamespace,
  netnsAvailable,
} from "../support/netns.ts";
import { runAgentIn } from "../support/netns_agent.ts";
import { startNetnsBackend } from "../support/netns_backend.ts";
import { tempDir } from "../support/tempdir.ts";

const SENSOR_IP = "198.51.100.2"; // mgmt0, the sensor's end of the management link
const BACKEND_IP = "198.51.100.1"; // its peer in the backend namespace, and the default gateway
const CAPTURE_IP = "203.0.113.2"; // on capture0 only while traffic is made, then removed
const CAPTURE_PEER_IP = "203.0.113.1";

const netns = await netnsAvailable();
if (!netns.available) console.log(`skipped: netns_test.ts: ${netns.reason}`);

/**
 * The sensor's links: mgmt0 up with an address and the default route, capture0 up with carrier but
 * no address (a SPAN port), spare0 down, and lo. Every peer lives in the backend namespace.
 */
async function wireSensor(sensor: NetNamespace, lab: NetNamespace): Promise<void> {
  await addVeth(sensor, "mgmt0", lab, "mgmt0-peer");
  await addVeth(sensor, "capture0", lab, "capture0-peer");
  await addVeth(sensor, "spare0", lab, "spare0-peer");
  await lab.ip("addr", "add", `${BACKEND_IP}/24`, "dev", "mgmt0-peer");
  await lab.ip("link", "set", "mgmt0-peer", "up");
  await lab.ip("addr", "add", `${CAPTURE_PEER_IP}/24`, "dev", "capture0-peer");
  await lab.ip("link", "set", "capture0-peer", "up");
  await sensor.ip("addr", "add", `${SENSOR_IP}/24`, "dev", "mgmt0");
  await sensor.ip("link", "set", "mgmt0", "up");
  await sensor.ip("route", "add", "default", "via", BACKEND_IP);
  await sensor.ip("link", "set", "capture0", "up");
}

/**
 * Puts bytes through capture0 both ways, so its counters are not 0: a temporary address, a few TCP
 * connects to a closed port of the peer (ARP and SYN out, ARP reply and RST in), address removed.
 */
async function makeCaptureTraffic(sensor: NetNamespace): Promise<void> {
  await sensor.ip("addr", "add", `${CAPTURE_IP}/24`, "dev", "capture0");
  await sensor.exec([
    Deno.execPath(),
    "eval",
    `for (let i = 0; i < 3; i++) {
      await Deno.connect({ hostname: "${CAPTURE_PEER_IP}", port: 9 }).then((c) => c.close(), () => {});
    }`,
  ]);
  await sensor.ip("addr", "flush", "dev", "capture0");
}

/** What the enrollment must say about each interface the test built, counters aside. */
const EXPECTED_FLAGS: Record<string, object> = {
  lo: { isManagement: false, isLoopback: true, isVirtual: true, isWireless: false, isUp: true },
  mgmt0: { isManagement: true, isLoopback: false, isVirtual: true, isWireless: false, isUp: true },
  capture0: {
    isManagement: false,
    isLoopback: false,
    isVirtual: true,
    isWireless: false,
    isUp: true,
  },
  spare0: {
    isManagement: false,
    isLoopback: false,
    isVirtual: true,
    isWireless: false,
    isUp: false,
  },
};

type SentInterface = NetworkInterface;

Deno.test({
  name: "netns: enrollment reports every flag, the counters and sensorIp of the sensor's own links",
  ignore: !netns.available,
  fn: async () => {
    await using sensor = await createNamespace("sensor");
    await using lab = await createNamespace("backend");
    await wireSensor(sensor, lab);
    await makeCaptureTraffic(sensor);
    const built = new Map((await kernelLinks(sensor)).map((link) => [link.name, link]));
    // The layout is what the test claims before the agent is judged against it.
    assert.ok(built.get("capture0")!.flags.includes("LOWER_UP"), "capture0 has carrier");
    assert.ok(!built.get("spare0")!.flags.includes("UP"), "spare0 is down");
    const captureAddresses = JSON.parse(await sensor.ip("-j", "addr", "show", "dev", "capture0"));
    assert.deepEqual(captureAddresses[0].addr_info, [], "capture0 has no address");

    const sensorToken = newToken("sensor");
    const installToken = newToken("install");
    await using backend = await startNetnsBackend(lab, BACKEND_IP, sensorToken);
    await using config = await tempDir();
    await using roots = await hostRoots();
    const configPath = config.join("sensor-agent.env");
    await Deno.writeTextFile(configPath, "SENSOR_ID=netns-sensor\n");

    const before = await kernelLinks(sensor);
    const run = await runAgentIn(sensor, ["enroll", "--config", configPath], {
      roots,
      write: [config.path],
      net: new URL(backend.url).host,
      env: { BACKEND_URL: backend.url, INSTALL_TOKEN: installToken },
    });
    const after = await kernelLinks(sensor);
    const requests = await backend.stop();

    assert.equal(run.code, 0, run.stderr);
    assert.match(
      await Deno.readTextFile(configPath),
      new RegExp(`^SENSOR_TOKEN=${sensorToken}$`, "m"),
    );
    assert.equal(requests.length, 1);
    assert.equal(requests[0].method, "POST");
    assert.equal(requests[0].path, "/api/sensors/enroll");
    assert.equal(requests[0].remoteAddress, SENSOR_IP);
    const body = JSON.parse(requests[0].body);
    assert.equal(body.installToken, installToken);
    assert.equal(body.sensorIp, SENSOR_IP); // the local end of the connection to the backend

    const sent: SentInterface[] = body.interfaces;
    // One entry per interface of the namespace, in ifindex order (section 5).
    assert.deepEqual(sent.map((i) => i.name), before.map((link) => link.name));
    for (const name of Object.keys(EXPECTED_FLAGS)) {
      assert.ok(sent.some((i) => i.name === name), `${name} is reported`);
    }
    assert.deepEqual(sent.filter((i) => i.isManagement).map((i) => i.name), ["mgmt0"]);
    for (const [index, entry] of sent.entries()) {
      const { bytesSent, bytesRecv, ...flags } = entry;
      // Kernel devices a namespace may hold besides ours (sit0, tunl0, ...): flags as the kernel
      // says.
      const expected = EXPECTED_FLAGS[entry.name] ?? kernelFlags(before[index]);
      assert.deepEqual(flags, { name: entry.name, ...expected }, entry.name);
      // The agent read the counters between the two snapshots, so they lie between them.
      assertWithin(bytesRecv, before[index].rxBytes, after[index].rxBytes, `${entry.name} rx`);
      assertWithin(bytesSent, before[index].txBytes, after[index].txBytes, `${entry.name} tx`);
    }
    const capture = sent.find((i) => i.name === "capture0")!;
    assert.ok(capture.bytesRecv > 0 && capture.bytesSent > 0, "capture0 counted the traffic");
  },
});

function kernelFlags(link: KernelLink): object {
  return {
    isManagement: false,
    isLoopback: link.flags.includes("LOOPBACK"),
    isVirtual: true, // nothing physical was moved into the namespace
    isWireless: false,
    isUp: link.flags.includes("UP"),
  };
}

function assertWithin(value: number, low: number, high: number, what: string): void {
  assert.ok(low <= value && value <= high, `${what}: ${value} not within [${low}, ${high}]`);
}

Deno.test({
  name: "netns: sensorIp is the address on the route to the backend, not the default route's",
  ignore: !netns.available,
  fn: async () => {
    // The default route leaves through uplink0; the backend is reached through mgmt0's own subnet.
    // Every fallback of section 3 (default-route interface, first IPv4) would say uplink0's
    // address: only the connection to the backend says mgmt0's.
    await using sensor = await createNamespace("sensor2");
    await using lab = await createNamespace("backend2");
    await addVeth(sensor, "uplink0", lab, "uplink0-peer");
    await addVeth(sensor, "mgmt0", lab, "mgmt0-peer");
    await lab.ip("addr", "add", `${CAPTURE_PEER_IP}/24`, "dev", "uplink0-peer");
    await lab.ip("addr", "add", `${BACKEND_IP}/24`, "dev", "mgmt0-peer");
    await lab.ip("link", "set", "uplink0-peer", "up");
    await lab.ip("link", "set", "mgmt0-peer", "up");
    await sensor.ip("addr", "add", `${CAPTURE_IP}/24`, "dev", "uplink0");
    await sensor.ip("addr", "add", `${SENSOR_IP}/24`, "dev", "mgmt0");
    await sensor.ip("link", "set", "uplink0", "up");
    await sensor.ip("link", "set", "mgmt0", "up");
    await sensor.ip("route", "add", "default", "via", CAPTURE_PEER_IP);

    const sensorToken = newToken("sensor");
    await using backend = await startNetnsBackend(lab, BACKEND_IP, sensorToken);
    await using config = await tempDir();
    await using roots = await hostRoots();
    const configPath = config.join("sensor-agent.env");
    const run = await runAgentIn(sensor, ["enroll", "--config", configPath], {
      roots,
      write: [config.path],
      net: new URL(backend.url).host,
      env: { BACKEND_URL: backend.url, INSTALL_TOKEN: newToken("install") },
    });
    const requests = await backend.stop();
    assert.equal(run.code, 0, run.stderr);
    const body = JSON.parse(requests[0].body);
    assert.equal(body.sensorIp, SENSOR_IP);
    assert.deepEqual(
      body.interfaces.filter((i: SentInterface) => i.isManagement).map((i: SentInterface) =>
        i.name
      ),
      ["mgmt0"],
    );
  },
});
