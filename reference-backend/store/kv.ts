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
//   ["audit", at, seq]                        AuditEvent (audit.ts)
//   ["console_sessions", sha256(id)], ["console_login_codes", sha256(code)]  (sessions.ts)
//   ["silent_sensors", sensorId]              reported silent by the alert sweep (alerts.ts)
//   ["duplicate_sensors", sensorId]           reported duplicate by the alert sweep (alerts.ts)
//
// The records' types and the pieces of a write are in records.ts; the heartbeat's path, which keeps
// what it reads in memory and writes every change made through a sensor token, in beats.ts; a
// token's rotation and the hosts seen with it in credentials.ts and bindings.ts; the whole fleet in
// memory, for listing, in fleet.ts.
import { join } from "node:path";
import type { NetworkInterface } from "../../lib/host/mod.ts";
import { AlertMarks } from "./alerts.ts";
import { AuditTrail } from "./audit.ts";
import { Beats, type Decision } from "./beats.ts";
import { withRotationRequested } from "./credentials.ts";
import { removeRecord, revokeRecord } from "./endings.ts";
import { FleetIndex } from "./fleet.ts";
import {
  cancelInstallToken,
  type CancelRefusal,
  type ListedInstallToken,
  listInstallTokens,
} from "./installs.ts";
import { unpackInterfaces } from "./interfaces.ts";
import { SessionRecords } from "./sessions.ts";
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

/**
 * Opens the store: a local directory (created 0700), or a hosted Deno KV URL used as it is; then
 * reads the fleet into memory (fleet.ts) and counts the audit trail.
 */
export async function openStore(location: string): Promise<Store> {
  let kv: Deno.Kv;
  if (/^https?:\/\//i.test(location)) {
    kv = await Deno.openKv(location);
  } else {
    await Deno.mkdir(location, { recursive: true, mode: 0o700 });
    kv = await Deno.openKv(join(location, "kv.sqlite3"));
  }
  const store = new Store(kv);
  try {
    await store.load();
  } catch (error) {
    store.close();
    throw error;
  }
  return store;
}

/** What a removal came to: the record removed, or why the sensor may not be removed. */
export type Removal = { readonly removed: SensorRecord } | { readonly refused: string };

export class Store {
  readonly #beats: Beats;
  readonly #index = new FleetIndex();
  /** Who did what, kept (audit.ts). */
  readonly audit: AuditTrail;
  /** The console's sessions and one-time login codes (sessions.ts). */
  readonly sessions: SessionRecords;
  /** The sensors the alert sweep reported silent, and those it reported duplicate (alerts.ts). */
  readonly silentMarks: AlertMarks;
  readonly duplicateMarks: AlertMarks;

  constructor(private readonly kv: Deno.Kv) {
    this.#beats = new Beats(kv, this.#index);
    this.audit = new AuditTrail(kv);
    this.sessions = new SessionRecords(kv);
    this.silentMarks = new AlertMarks(kv, "silent_sensors");
    this.duplicateMarks = new AlertMarks(kv, "duplicate_sensors");
  }

  /** Reads what is kept in memory: the fleet's index, the audit trail's size. */
  async load(): Promise<void> {
    await this.#index.load(this.kv);
    await this.audit.load();
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
    const write = sensorWrite(update, 0);
    write.add(op);
    if (replay !== undefined) {
      op.set(["replays", sensor.installTokenDigest], replay, { expireIn: REPLAY_WINDOW_MS });
    }
    const result = await commit(op);
    if (result.ok) this.#index.put(write.sensor, result.versionstamp);
    return result.ok;
  }

  /** Every install token still held: unexpired, or spent within the replay window (installs.ts). */
  installTokens(): Promise<ListedInstallToken[]> {
    return listInstallTokens(this.kv);
  }

  /** Deletes the unused install token with `fingerprint`; its record, or why not (installs.ts). */
  cancelInstallToken(fingerprint: string): Promise<ListedInstallToken | CancelRefusal> {
    return cancelInstallToken(this.kv, fingerprint);
  }

  async replay(installDigest: string): Promise<ReplayRecord | null> {
    return (await this.kv.get<ReplayRecord>(["replays", installDigest])).value;
  }

  /** The sensor `id` as the store holds it (what the fleet's memory keeps is brought up to it). */
  async sensor(id: string): Promise<SensorRecord | null> {
    const entry = await this.kv.get<SensorRecord>(["sensors", id]);
    if (entry.value !== null) this.#index.put(entry.value, entry.versionstamp);
    return entry.value;
  }

  /** The sensor holding the token with `tokenDigest`, or null when none does (or it is revoked). */
  sensorByToken(tokenDigest: string): Promise<SensorRecord | null> {
    return this.#beats.sensorByToken(tokenDigest);
  }

  /** Every sensor, from memory (fleet.ts): as the store holds them, without a read. */
  fleet(): IterableIterator<SensorRecord> {
    return this.#index.records();
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
   * gone (endings.ts). Null if unknown.
   */
  async revoke(id: string, now: number): Promise<SensorRecord | null> {
    const ending = await revokeRecord(this.kv, id, now);
    if (ending?.versionstamp !== undefined) {
      for (const tokenDigest of ending.tokens) this.#beats.forget(tokenDigest);
      this.#index.put(ending.sensor, ending.versionstamp);
    }
    return ending?.sensor ?? null;
  }

  /**
   * Removes the sensor `id` and everything kept for it (its interfaces, its tokens' index, its
   * replay record, the alerts' marks), if `refusal` finds no reason not to in the record as it is
   * at the moment of the write: the removal holds only if no beat changed the record since
   * (endings.ts). Null if unknown.
   */
  async remove(id: string, refusal: (sensor: SensorRecord) => string | undefined) {
    const ending = await removeRecord(this.kv, id, refusal);
    if (ending === null) return null;
    if (typeof ending === "string") return { refused: ending } as Removal;
    for (const tokenDigest of ending.tokens) this.#beats.forget(tokenDigest);
    this.#index.remove(ending.sensor.id, ending.versionstamp!);
    return { removed: ending.sensor } as Removal;
  }
}
