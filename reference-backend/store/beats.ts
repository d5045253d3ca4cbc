// reference-backend/store/beats.ts: the heartbeat's path through the store, the backend's hottest.
// A beat used to read five records (the token's index and the sensor to judge the token, then both
// again and the counters) before its one atomic write of three; the reads cost more than the write.
// Here the record a sensor's last beat read or wrote is kept in memory, versionstamp included, and
// the next beat writes with a `check` on exactly that version. So the cache is never trusted
// blindly: if anything changed the record meanwhile (a revocation, another backend on a hosted
// store), the check fails, the record is read afresh, and the beat is judged on it. In one process
// revocation also drops the entry at once. A beat writes two rows: the record, with its recent
// counters, and the interface slice (more for a long list); beats of many sensors arriving together
// share one commit (groupcommit.ts).
import type { FleetIndex } from "./fleet.ts";
import { GroupCommit } from "./groupcommit.ts";
import {
  Contended,
  MAX_ATTEMPTS,
  RECENT_BEATS,
  sample,
  type SensorRecord,
  type SensorUpdate,
  sensorWrite,
} from "./records.ts";

// Sensors kept at most (a few KiB each); past it the least recently beating one is read again
// when it next beats.
const MAX_CACHED = 20_000;

/** Sensors by the digest of their token, as last read or written, versionstamp included. */
export class Beats {
  readonly #cache = new Map<string, Deno.KvEntry<SensorRecord>>();
  readonly #writes: GroupCommit;

  /** `index` is told every record a beat writes (fleet.ts). */
  constructor(private readonly kv: Deno.Kv, private readonly index: FleetIndex) {
    this.#writes = new GroupCommit(kv);
  }

  /** The sensor holding the token with `tokenDigest`, or null when none does (or it is revoked). */
  async sensorByToken(tokenDigest: string): Promise<SensorRecord | null> {
    const entry = this.#cache.get(tokenDigest) ?? await this.#read(tokenDigest);
    return entry?.value.revokedAt === null ? entry.value : null;
  }

  /**
   * Applies a heartbeat to the sensor holding the token with `tokenDigest`; returns the updated
   * record, or null when no sensor holds it (unknown or revoked token). A revocation racing the
   * heartbeat wins: the write holds only if the record did not change since it was read.
   */
  async record(
    tokenDigest: string,
    apply: (sensor: SensorRecord) => SensorUpdate,
  ): Promise<SensorRecord | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = this.#cache.get(tokenDigest) ?? await this.#read(tokenDigest);
      if (entry === undefined || entry.value.revokedAt !== null) return null;
      const update = apply(entry.value);
      const recentCounters = [...entry.value.recentCounters ?? [], sample(update)]
        .slice(-RECENT_BEATS);
      const write = sensorWrite(
        { ...update, sensor: { ...update.sensor, recentCounters } },
        entry.value.interfaceSlices,
      );
      const result = await this.#writes.commit({
        // The record's versionstamp is the one check needed: every write that touches the token's
        // index (enrollment, revocation) or the interface slices writes the record too.
        add: (op) => write.add(op.check(entry)),
        checks: 1,
        mutations: write.mutations,
        bytes: write.bytes,
      });
      const written = write.sensor;
      if (result.ok) {
        // Last in the Map's order is the most recently beating: the first is the one to drop.
        this.#cache.delete(tokenDigest);
        this.#cache.set(tokenDigest, {
          key: entry.key,
          value: written,
          versionstamp: result.versionstamp,
        });
        this.index.put(written, result.versionstamp);
        return written;
      }
      this.#cache.delete(tokenDigest); // changed under us: read it again
    }
    throw new Contended("heartbeat: the sensor record kept changing; giving up");
  }

  /** Drops what is kept for the token with `tokenDigest` (its sensor was revoked). */
  forget(tokenDigest: string): void {
    this.#cache.delete(tokenDigest);
  }

  /** Reads the token's index and its sensor, and keeps the sensor; undefined if unknown. */
  async #read(tokenDigest: string): Promise<Deno.KvEntry<SensorRecord> | undefined> {
    const index = await this.kv.get<string>(["sensor_tokens", tokenDigest]);
    if (index.value === null) return undefined;
    const entry = await this.kv.get<SensorRecord>(["sensors", index.value]);
    if (entry.value === null) return undefined;
    if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(tokenDigest, entry as Deno.KvEntry<SensorRecord>);
    return entry as Deno.KvEntry<SensorRecord>;
  }
}
