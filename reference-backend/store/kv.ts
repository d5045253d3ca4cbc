// reference-backend/store/kv.ts: everything the backend keeps, in Deno KV. A token is only ever a
// key by its SHA-256; the one exception, the sensor token kept for the replay window, is sealed.
//
//   ["install_tokens", sha256(installToken)]  InstallTokenRecord; expires with the token, and once
//                                             consumed, REPLAY_WINDOW_MS after consumption
//   ["replays", sha256(installToken)]         ReplayRecord: the sealed sensor token (REPLAY_WINDOW_MS)
//   ["sensors", sensorId]                     SensorRecord, with the last RECENT_BEATS beats' byte
//                                             totals for the console's rate chart
//   ["sensor_interfaces", sensorId, n]        slice n of the latest interface list (interfaces.ts)
//   ["sensor_tokens", sha256(sensorToken)]    sensorId: the heartbeat's lookup; one for the token in
//                                             use and, during a rotation, one for the new token; the
//                                             old one's deleted at the new one's first use, both on
//                                             revoke
//
// The records' types and the pieces of a write are in records.ts; the heartbeat's path, which keeps
// what it reads in memory and writes every change made through a sensor token, in beats.ts; a
// token's rotation and the hosts seen with it in credentials.ts and bindings.ts.
import { join } from "node:path";
import type { NetworkInterface } from "../../lib/host/mod.ts";
import { Beats, type Decision } from "./beats.ts";
import { tokenDigests, withRotationRequested } from "./credentials.ts";
import { unpackInterfaces } from "./interfaces.ts";
import {
  commit,
  type Consumption,
  Contended,
  type CounterSample,
  type InstallTokenRecord,
  MAX_ATTEMPTS,
  REPLAY_WINDOW_MS,
  type ReplayRecord,
  type SensorRecord,
  type SensorUpdate,
  sensorWrite,
} from "./records.ts";

/** Opens the store: a local directory (created 0700), or a hosted Deno KV URL used as it is. */
export async function openStore(location: string): Promise<Store> {
  if (/^https?:\/\//i.test(location)) return new Store(await Deno.openKv(location));
  await Deno.mkdir(location, { recursive: true, mode: 0o700 });
  return new Store(await Deno.openKv(join(location, "kv.sqlite3")));
}

export class Store {
  readonly #beats: Beats;

  constructor(private readonly kv: Deno.Kv) {
    this.#beats = new Beats(kv);
  }

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
    sensorWrite(update, 0).add(op);
    if (replay !== undefined) {
      op.set(["replays", sensor.installTokenDigest], replay, { expireIn: REPLAY_WINDOW_MS });
    }
    return (await commit(op)).ok;
  }

  async replay(installDigest: string): Promise<ReplayRecord | null> {
    return (await this.kv.get<ReplayRecord>(["replays", installDigest])).value;
  }

  async sensor(id: string): Promise<SensorRecord | null> {
    return (await this.kv.get<SensorRecord>(["sensors", id])).value;
  }

  /** The sensor holding the token with `tokenDigest`, or null when none does (or it is revoked). */
  sensorByToken(tokenDigest: string): Promise<SensorRecord | null> {
    return this.#beats.sensorByToken(tokenDigest);
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
  async recentCounters(sensorId: string): Promise<readonly CounterSample[]> {
    return (await this.sensor(sensorId))?.recentCounters ?? [];
  }

  /**
   * Applies a heartbeat made at `now` to the sensor the token with `tokenDigest` opens (beats.ts);
   * returns the updated record, or null when no sensor holds it (unknown or revoked token).
   */
  recordHeartbeat(
    tokenDigest: string,
    now: number,
    apply: (sensor: SensorRecord) => SensorUpdate,
  ): Promise<SensorRecord | null> {
    return this.#beats.record(tokenDigest, now, apply);
  }

  /**
   * A change decided on the sensor the token with `tokenDigest` opens, as a request made with it at
   * `now` (beats.ts, change): written only over the record it was decided on. Null when the token
   * opens no sensor.
   */
  changeByToken<R>(
    tokenDigest: string,
    now: number,
    decide: (sensor: SensorRecord) => Decision<R> | Promise<Decision<R>>,
  ): Promise<R | null> {
    return this.#beats.change(tokenDigest, now, decide);
  }

  /**
   * Asks the sensor `id` to rotate its token at its next request (credentials.ts); the sensor as
   * it then is, revoked ones unchanged, or null if unknown.
   */
  async requestRotation(id: string, now: number): Promise<SensorRecord | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const sensor = await this.sensor(id);
      if (sensor === null || sensor.revokedAt !== null) return sensor;
      // Through the token, so that the heartbeat's cache stays current; null when the token
      // changed (a rotation completed) or the sensor was revoked since it was read.
      const requested = await this.#beats.change(sensor.tokenDigest, now, (current) => {
        const asked = withRotationRequested(current, now);
        return asked === current ? { result: current } : { sensor: asked, result: asked };
      });
      if (requested !== null) return requested;
    }
    throw new Contended("rotation request: the sensor record kept changing; giving up");
  }

  /**
   * Revokes the sensor: its token (and a rotation's new one) stops working and any replay of it is
   * gone. Null if unknown.
   */
  async revoke(id: string, now: number): Promise<SensorRecord | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await this.kv.get<SensorRecord>(["sensors", id]);
      if (entry.value === null) return null;
      if (entry.value.revokedAt !== null) return entry.value;
      const revoked = { ...entry.value, revokedAt: now };
      const tokens = tokenDigests(entry.value); // the token in use, and a rotation's new one
      const op = this.kv.atomic().check(entry).set(entry.key, revoked);
      for (const tokenDigest of tokens) op.delete(["sensor_tokens", tokenDigest]);
      const result = await op.delete(["replays", revoked.installTokenDigest]).commit();
      if (result.ok) {
        for (const tokenDigest of tokens) this.#beats.forget(tokenDigest);
        return revoked;
      }
    }
    throw new Contended("revoke: the sensor record kept changing; giving up");
  }
}
