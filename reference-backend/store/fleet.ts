// reference-backend/store/fleet.ts: the whole fleet in memory, kept in step with the store, so that
// listing, searching and sorting thousands of sensors reads no record from disk. The store stays
// the truth: the index is filled from it when the store opens (a restart rebuilds it), and every
// write of a sensor record in this process (enrollment, heartbeat, revocation, removal) puts what
// it wrote here, with the commit's versionstamp. A versionstamp only grows, so an update that
// arrives late (a beat's write that committed before a revocation) never overwrites a newer one.

import type { SensorRecord } from "./records.ts";

// Removed sensors remembered, so that a write older than the removal cannot bring one back.
const MAX_REMOVED = 10_000;

/** Sensor records by id, each with the versionstamp of the write that stored it. */
export class FleetIndex {
  readonly #sensors = new Map<string, { record: SensorRecord; versionstamp: string }>();
  readonly #removed = new Map<string, string>();

  /** Keeps `record` as written at `versionstamp`, unless a newer write of it is already kept. */
  put(record: SensorRecord, versionstamp: string): void {
    const kept = this.#sensors.get(record.id)?.versionstamp ?? this.#removed.get(record.id);
    if (kept !== undefined && kept > versionstamp) return;
    this.#removed.delete(record.id);
    this.#sensors.set(record.id, { record, versionstamp });
  }

  /** Forgets the sensor `id`, removed from the store at `versionstamp`. */
  remove(id: string, versionstamp: string): void {
    this.#sensors.delete(id);
    if (this.#removed.size >= MAX_REMOVED) this.#removed.clear();
    this.#removed.set(id, versionstamp);
  }

  /** The record of sensor `id` as last written, if it exists. */
  get(id: string): SensorRecord | undefined {
    return this.#sensors.get(id)?.record;
  }

  /** Every sensor's record, in no particular order. */
  *records(): IterableIterator<SensorRecord> {
    for (const { record } of this.#sensors.values()) yield record;
  }

  /** How many sensors there are. */
  get size(): number {
    return this.#sensors.size;
  }

  /** Fills the index from the store's sensor records (when the store opens). */
  async load(kv: Deno.Kv): Promise<void> {
    for await (const entry of kv.list<SensorRecord>({ prefix: ["sensors"] })) {
      this.put(entry.value, entry.versionstamp);
    }
  }
}
