// reference-backend/store/beats.ts: the heartbeat's path through the store, the backend's hottest,
// and every other change made through a sensor token (a rotation, an admin's request to rotate).
// A beat used to read five records (the token's index and the sensor to judge the token, then both
// again and the counters) before its one atomic write of three; the reads cost more than the write.
// Here the record a sensor's last request read or wrote is kept in memory by the digest of the token
// it came with, versionstamp included, and the next change writes with a `check` on exactly that
// version. So the cache is never trusted blindly: if anything changed the record meanwhile (a
// revocation, a rotation, another backend on a hosted store), the check fails, the record is read
// afresh, and the request is judged on it. In one process a revocation or a completed rotation also
// drops the entries of the tokens it ends at once. A beat writes two rows: the record, with its
// recent counters and the hosts seen, and the interface slices (more for a long list); the token
// index changes only when the record's tokens do (credentials.ts); writes of many sensors arriving
// together share one commit (groupcommit.ts). Every record written is also put in the fleet's
// index (fleet.ts), which lists the fleet without reading it.
import { opens, settle, tokenDigests } from "./credentials.ts";
import type { FleetIndex } from "./fleet.ts";
import { GroupCommit, type Write } from "./groupcommit.ts";
import {
  Contended,
  MAX_ATTEMPTS,
  RECENT_BEATS,
  sample,
  type SensorRecord,
  type SensorUpdate,
  type SensorWrite,
  sensorWrite,
} from "./records.ts";

// Sensors kept at most (a few KiB each); past it the least recently beating one is read again
// when it next beats.
const MAX_CACHED = 20_000;
// Bounds of a write of the record alone: the record, and a token index key.
const RECORD_BYTES = 8 * 1024;
const KEY_BYTES = 128;

/**
 * What a change decided: the record to write (undefined: nothing to write, unless the request
 * completed a rotation), and what the caller gets once it holds.
 */
export interface Decision<R> {
  readonly sensor?: SensorRecord;
  readonly result: R;
}

/** Sensors by the digest of a token that opens them, as last read or written. */
export class Beats {
  readonly #cache = new Map<string, Deno.KvEntry<SensorRecord>>();
  readonly #writes: GroupCommit;

  /** `index` is told every record written here (fleet.ts). */
  constructor(private readonly kv: Deno.Kv, private readonly index: FleetIndex) {
    this.#writes = new GroupCommit(kv);
  }

  /** The sensor the token with `tokenDigest` opens, or null when none does (or it is revoked). */
  async sensorByToken(tokenDigest: string): Promise<SensorRecord | null> {
    const entry = this.#cache.get(tokenDigest) ?? await this.#read(tokenDigest);
    return entry !== undefined && opens(entry.value, tokenDigest) ? entry.value : null;
  }

  /**
   * Applies a heartbeat made at `now` to the sensor the token with `tokenDigest` opens; returns the
   * updated record, or null when no sensor holds it (unknown, revoked, or replaced by a rotation).
   * A revocation racing the heartbeat wins: the write holds only if the record did not change since
   * it was read.
   */
  record(
    tokenDigest: string,
    now: number,
    apply: (sensor: SensorRecord) => SensorUpdate,
  ): Promise<SensorRecord | null> {
    return this.#change(tokenDigest, now, (sensor) => {
      const update = apply(sensor);
      const recentCounters = [...sensor.recentCounters ?? [], sample(update)].slice(-RECENT_BEATS);
      const write = sensorWrite(
        { ...update, sensor: { ...update.sensor, recentCounters } },
        sensor.interfaceSlices,
      );
      return { write, result: write.sensor };
    });
  }

  /**
   * Decides a change to the sensor the token with `tokenDigest` opens, as a request made with it at
   * `now` (a request with a pending token completes its rotation first: credentials.ts, settle),
   * and writes the record decided, its token index kept in step, only if the record is still the
   * one decided on; otherwise decides again on the record as it now is. Resolves with the decision's
   * result once written, or null when the token opens no sensor.
   */
  change<R>(
    tokenDigest: string,
    now: number,
    decide: (sensor: SensorRecord) => Decision<R> | Promise<Decision<R>>,
  ): Promise<R | null> {
    return this.#change(tokenDigest, now, async (sensor) => {
      const { sensor: changed, result } = await decide(sensor);
      return { write: changed === undefined ? undefined : recordWrite(changed), result };
    });
  }

  /** Drops what is kept for the token with `tokenDigest` (its sensor was revoked). */
  forget(tokenDigest: string): void {
    this.#cache.delete(tokenDigest);
  }

  async #change<R>(
    tokenDigest: string,
    now: number,
    decide: (sensor: SensorRecord) =>
      | { write?: SensorWrite; result: R }
      | Promise<{
        write?: SensorWrite;
        result: R;
      }>,
  ): Promise<R | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const kept = this.#cache.get(tokenDigest);
      const entry = kept ?? await this.#read(tokenDigest);
      if (entry === undefined || !opens(entry.value, tokenDigest)) return null;
      const sensor = settle(entry.value, tokenDigest, now);
      const decided = await decide(sensor);
      // A request that completed a rotation is written even when it changed nothing else.
      const write = decided.write ?? (sensor === entry.value ? undefined : recordWrite(sensor));
      if (write === undefined) {
        // No write, so no check: an answer decided on what memory kept (another backend may have
        // changed the record) is decided again on the record as the store has it.
        if (kept === undefined) return decided.result;
        this.#cache.delete(tokenDigest);
        continue;
      }
      const indexed = withTokenIndex(entry, write);
      const outcome = await this.#writes.commit(indexed.write);
      if (outcome.ok) {
        for (const gone of indexed.removed) this.#cache.delete(gone);
        // Last in the Map's order is the most recently beating: the first is the one to drop.
        this.#cache.delete(tokenDigest);
        this.#cache.set(tokenDigest, {
          key: entry.key,
          value: write.sensor,
          versionstamp: outcome.versionstamp,
        });
        this.index.put(write.sensor, outcome.versionstamp);
        return decided.result;
      }
      this.#cache.delete(tokenDigest); // changed under us: read it again
    }
    throw new Contended("sensor record: it kept changing; giving up");
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

/** The write of the record alone, its interface slices kept. */
function recordWrite(sensor: SensorRecord): SensorWrite {
  return {
    sensor,
    mutations: 1,
    bytes: RECORD_BYTES + KEY_BYTES,
    add: (op) => void op.set(["sensors", sensor.id], sensor),
  };
}

/**
 * `write` over the record of `entry` as one write for the group commit: the check on the record's
 * version, then, when the record's tokens changed, the index keys of the new ones (each checked
 * absent: a token's digest names one sensor) and the deletion of those it no longer has.
 */
function withTokenIndex(
  entry: Deno.KvEntry<SensorRecord>,
  write: SensorWrite,
): { write: Write; removed: readonly string[] } {
  const before = entry.value;
  const after = write.sensor;
  // Every beat but the one completing a rotation: the same tokens, no index change.
  if (before.tokenDigest === after.tokenDigest && before.pendingToken === after.pendingToken) {
    return {
      write: {
        // The record's versionstamp is the one check needed: every write that touches the token's
        // index (enrollment, rotation, revocation) or the interface slices writes the record too.
        add: (op) => write.add(op.check(entry)),
        checks: 1,
        mutations: write.mutations,
        bytes: write.bytes,
      },
      removed: [],
    };
  }
  const was = tokenDigests(before);
  const is = tokenDigests(after);
  const added = is.filter((digest) => !was.includes(digest));
  const removed = was.filter((digest) => !is.includes(digest));
  return {
    write: {
      add: (op) => {
        op.check(entry);
        for (const digest of added) {
          op.check({ key: ["sensor_tokens", digest], versionstamp: null });
        }
        write.add(op);
        for (const digest of added) op.set(["sensor_tokens", digest], after.id);
        for (const digest of removed) op.delete(["sensor_tokens", digest]);
      },
      checks: 1 + added.length,
      mutations: write.mutations + added.length + removed.length,
      bytes: write.bytes + (added.length + removed.length) * KEY_BYTES,
    },
    removed,
  };
}
