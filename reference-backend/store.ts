// reference-backend/store.ts: everything the backend keeps, in Deno KV. A token is only ever a key
// by its SHA-256; the one exception, the sensor token kept for the replay window, is sealed.
//
//   ["install_tokens", sha256(installToken)]  InstallTokenRecord; expires with the token, and once
//                                             consumed, REPLAY_WINDOW_MS after consumption
//   ["replays", sha256(installToken)]         ReplayRecord: the sealed sensor token (REPLAY_WINDOW_MS)
//   ["sensors", sensorId]                     SensorRecord
//   ["sensor_interfaces", sensorId, n]        slice n of the latest interface list (interfaces.ts)
//   ["sensor_tokens", sha256(sensorToken)]    sensorId: the heartbeat's lookup; deleted on revoke
//   ["sensor_counters", sensorId]             CounterSample[]: the last RECENT_BEATS beats' byte
//                                             totals, for the console's rate chart
import { join } from "node:path";
import type { NetworkInterface } from "../lib/host/mod.ts";
import { packInterfaces, unpackInterfaces } from "./interfaces.ts";
import type { Sealed } from "./tokens.ts";

/** How long a consumed install token and the same Idempotency-Key get the credential again. */
export const REPLAY_WINDOW_MS = 10 * 60_000;

/** An install token, by its digest. */
export interface InstallTokenRecord {
  readonly createdAt: number; // ms since the epoch, server clock
  readonly expiresAt: number;
  readonly note: string | null;
  readonly consumed: Consumption | null;
}

/** The enrollment that spent an install token. */
export interface Consumption {
  readonly at: number;
  readonly sensorId: string;
  /** SHA-256 of the consuming request's Idempotency-Key; null when it sent none (no replay). */
  readonly idempotencyKeyDigest: string | null;
}

/** What a retried enrollment gets back within the window, sealed under the install token. */
export interface ReplayRecord {
  readonly sensorId: string;
  readonly sealedSensorToken: Sealed;
}

/** One sensor: what it said at enrollment, updated by each heartbeat. */
export interface SensorRecord {
  readonly id: string;
  readonly label: string | null; // SENSOR_ID, from heartbeats
  readonly hostname: string;
  readonly osInfo: string;
  readonly architecture: string;
  readonly agentVersion: string;
  readonly sensorIp: string;
  readonly sensorPort: number;
  readonly sudoUser: string;
  readonly enrolledAt: number;
  readonly lastSeenAt: number;
  readonly heartbeats: number;
  readonly uptimeSeconds: number | null;
  readonly interfaceCount: number;
  /** How many ["sensor_interfaces", id, n] slices hold the list; kept by the store. */
  readonly interfaceSlices: number;
  readonly revokedAt: number | null;
  readonly tokenDigest: string;
  readonly installTokenDigest: string;
}

/** A sensor record with the interface list it goes with. */
export interface SensorUpdate {
  readonly sensor: SensorRecord;
  readonly interfaces: readonly NetworkInterface[];
}

/** How many beats' byte totals the store keeps per sensor (the console charts their rates). */
export const RECENT_BEATS = 30;

/** One beat's byte counters, summed over the sensor's interfaces other than loopback. */
export interface CounterSample {
  readonly at: number;
  readonly bytesSent: number;
  readonly bytesRecv: number;
}

// Optimistic writes retry on a conflict; this many conflicts in a row means something is wrong.
const MAX_ATTEMPTS = 20;

/**
 * A write lost its optimistic check MAX_ATTEMPTS times in a row: others write the same record
 * (another backend on a hosted store; in one process coalesce.ts serializes heartbeats). A load
 * condition, not a bug: the route answers 503 with Retry-After.
 */
export class Contended extends Error {}

/** Opens the store: a local directory (created 0700), or a hosted Deno KV URL used as it is. */
export async function openStore(location: string): Promise<Store> {
  if (/^https?:\/\//i.test(location)) return new Store(await Deno.openKv(location));
  await Deno.mkdir(location, { recursive: true, mode: 0o700 });
  return new Store(await Deno.openKv(join(location, "kv.sqlite3")));
}

export class Store {
  constructor(private readonly kv: Deno.Kv) {}

  close(): void {
    this.kv.close();
  }

  async addInstallToken(installDigest: string, record: InstallTokenRecord): Promise<void> {
    const expireIn = Math.max(1, record.expiresAt - record.createdAt);
    await this.kv.set(["install_tokens", installDigest], record, { expireIn });
  }

  installToken(installDigest: string): Promise<Deno.KvEntryMaybe<InstallTokenRecord>> {
    return this.kv.get<InstallTokenRecord>(["install_tokens", installDigest]);
  }

  /**
   * Spends the install token `entry` and creates the sensor, all in one atomic write that holds
   * only if the token's record is still the one `entry` read: of any number of concurrent requests,
   * one commits and the others get false. `replay` is kept for the window when given.
   */
  async consume(
    entry: Deno.KvEntry<InstallTokenRecord>,
    consumption: Consumption,
    update: SensorUpdate,
    replay?: ReplayRecord,
  ): Promise<boolean> {
    const { sensor } = update;
    const op = this.kv.atomic()
      .check(entry)
      .check({ key: ["sensor_tokens", sensor.tokenDigest], versionstamp: null })
      .set(entry.key, { ...entry.value, consumed: consumption }, { expireIn: REPLAY_WINDOW_MS })
      .set(["sensor_tokens", sensor.tokenDigest], sensor.id);
    this.writeSensor(op, update, 0);
    if (replay !== undefined) {
      op.set(["replays", sensor.installTokenDigest], replay, { expireIn: REPLAY_WINDOW_MS });
    }
    return (await op.commit()).ok;
  }

  async replay(installDigest: string): Promise<ReplayRecord | null> {
    return (await this.kv.get<ReplayRecord>(["replays", installDigest])).value;
  }

  async sensor(id: string): Promise<SensorRecord | null> {
    return (await this.kv.get<SensorRecord>(["sensors", id])).value;
  }

  /** The sensor holding the token with `tokenDigest`, or null when none does (or it is revoked). */
  async sensorByToken(tokenDigest: string): Promise<SensorRecord | null> {
    const index = await this.kv.get<string>(["sensor_tokens", tokenDigest]);
    if (index.value === null) return null;
    const sensor = await this.sensor(index.value);
    return sensor?.revokedAt === null ? sensor : null;
  }

  async sensors(): Promise<SensorRecord[]> {
    const list: SensorRecord[] = [];
    for await (const entry of this.kv.list<SensorRecord>({ prefix: ["sensors"] })) {
      list.push(entry.value);
    }
    return list;
  }

  /** The interface list last stored for the sensor. */
  async interfaces(sensorId: string): Promise<NetworkInterface[]> {
    const chunks: Uint8Array[] = [];
    const prefix = ["sensor_interfaces", sensorId];
    for await (const entry of this.kv.list<Uint8Array>({ prefix })) chunks.push(entry.value);
    return unpackInterfaces(chunks);
  }

  /** The byte totals of the sensor's last RECENT_BEATS beats, oldest first. */
  async recentCounters(sensorId: string): Promise<CounterSample[]> {
    return (await this.kv.get<CounterSample[]>(["sensor_counters", sensorId])).value ?? [];
  }

  /**
   * Applies a heartbeat to the sensor holding the token with `tokenDigest`; returns the updated
   * record, or null when no sensor holds it (unknown or revoked token). A revocation racing the
   * heartbeat wins: the write holds only if neither the token index nor the record changed.
   */
  async recordHeartbeat(
    tokenDigest: string,
    apply: (sensor: SensorRecord) => SensorUpdate,
  ): Promise<SensorRecord | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const index = await this.kv.get<string>(["sensor_tokens", tokenDigest]);
      if (index.value === null) return null;
      const entry = await this.kv.get<SensorRecord>(["sensors", index.value]);
      if (entry.value === null || entry.value.revokedAt !== null) return null;
      const update = apply(entry.value);
      const counters = await this.kv.get<CounterSample[]>(["sensor_counters", entry.value.id]);
      const op = this.kv.atomic().check(index).check(entry).check(counters);
      const written = this.writeSensor(op, update, entry.value.interfaceSlices);
      op.set(counters.key, [...counters.value ?? [], sample(update)].slice(-RECENT_BEATS));
      if ((await op.commit()).ok) return written;
    }
    throw new Contended("heartbeat: the sensor record kept changing; giving up");
  }

  /** Revokes the sensor: its token stops working and any replay of it is gone. Null if unknown. */
  async revoke(id: string, now: number): Promise<SensorRecord | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await this.kv.get<SensorRecord>(["sensors", id]);
      if (entry.value === null) return null;
      if (entry.value.revokedAt !== null) return entry.value;
      const revoked = { ...entry.value, revokedAt: now };
      const result = await this.kv.atomic()
        .check(entry)
        .set(entry.key, revoked)
        .delete(["sensor_tokens", revoked.tokenDigest])
        .delete(["replays", revoked.installTokenDigest])
        .commit();
      if (result.ok) return revoked;
    }
    throw new Contended("revoke: the sensor record kept changing; giving up");
  }

  /**
   * Adds the record and its interface slices to `op`, deleting slices past the new end; returns
   * the record as written.
   */
  private writeSensor(
    op: Deno.AtomicOperation,
    update: SensorUpdate,
    oldSlices: number,
  ): SensorRecord {
    const { id } = update.sensor;
    const slices = packInterfaces(update.interfaces);
    const sensor = { ...update.sensor, interfaceSlices: slices.length };
    op.set(["sensors", id], sensor);
    slices.forEach((slice, n) => op.set(["sensor_interfaces", id, n], slice));
    for (let n = slices.length; n < oldSlices; n++) op.delete(["sensor_interfaces", id, n]);
    return sensor;
  }
}

/** The beat's totals; loopback is left out: it is the host talking to itself, not the network. */
function sample(update: SensorUpdate): CounterSample {
  const wire = update.interfaces.filter((nic) => !nic.isLoopback);
  return {
    at: update.sensor.lastSeenAt,
    bytesSent: wire.reduce((sum, nic) => sum + nic.bytesSent, 0),
    bytesRecv: wire.reduce((sum, nic) => sum + nic.bytesRecv, 0),
  };
}
