// tests/support/fleet.ts: a fleet of sensors enrolled in a reference backend through its API (a
// mint and an enrollment each, no agent), fast: many requests at once, so that thousands of
// sensors take seconds even on two cores. Hostnames, agent versions and OSes vary the way a real
// fleet's do, so that search, filters and sorting have something to tell apart.
import assert from "node:assert/strict";
import { heartbeatBody, type RefBackend, seedPayload } from "./refbackend.ts";

/** One enrolled sensor: its id, what it says of itself, and its token to beat with. */
export interface FleetSensor {
  readonly id: string;
  readonly hostname: string;
  readonly label: string;
  readonly sensorIp: string;
  readonly agentVersion: string;
  readonly sensorToken: string;
}

/** The agent versions and OSes a fleet is spread over. */
export const FLEET_VERSIONS = ["2.0.0", "2.0.1", "2.1.0"];
export const FLEET_OSES = ["Ubuntu 24.04 LTS", "Debian GNU/Linux 12 (bookworm)", "Rocky Linux 9.4"];

/** The hostname of sensor `n` of a fleet: sensor-00042.dc3.example, ten data centres. */
export function fleetHostname(n: number): string {
  return `sensor-${String(n).padStart(5, "0")}.dc${n % 10}.example`;
}

/**
 * Enrolls `count` sensors, `concurrency` requests at a time, sensor n with fleetHostname(n), the
 * label rack-<n % 50>, and a version and OS by turns; resolves with them in the order of n.
 */
export async function enrollFleet(
  backend: RefBackend,
  count: number,
  concurrency = 48,
): Promise<FleetSensor[]> {
  const sensors: FleetSensor[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const installToken = await backend.mint({ label: `rack-${n % 50}` });
      const hostname = fleetHostname(n);
      const agentVersion = FLEET_VERSIONS[n % FLEET_VERSIONS.length];
      const sensorIp = `10.${Math.floor(n / 250) % 250}.${n % 250}.${1 + (n % 7)}`;
      const enrolled = await backend.enroll({
        ...seedPayload(installToken),
        hostname,
        agentVersion,
        osInfo: FLEET_OSES[Math.floor(n / 7) % FLEET_OSES.length],
        sensorIp,
      });
      assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body?.error));
      const { sensorId, sensorToken } = enrolled.body.data;
      const label = `rack-${n % 50}`;
      sensors[n] = { id: sensorId, hostname, label, sensorIp, agentVersion, sensorToken };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return sensors;
}

/** One heartbeat of each of `sensors`, `concurrency` at a time, each with its own hostname. */
export async function beatFleet(
  backend: RefBackend,
  sensors: readonly FleetSensor[],
  concurrency = 48,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < sensors.length) {
      const sensor = sensors[next++];
      const { hostname, label: sensorLabel, sensorIp, agentVersion } = sensor;
      const body = { ...heartbeatBody(), hostname, sensorLabel, sensorIp, agentVersion };
      const answer = await backend.beat(sensor.sensorToken, body);
      assert.equal(answer.status, 200, JSON.stringify(answer.body?.error));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
