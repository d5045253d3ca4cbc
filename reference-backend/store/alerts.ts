// reference-backend/store/alerts.ts: what the alert sweep has reported, kept in the store so that a
// restart neither repeats a report nor forgets to say that it ended.
//
//   ["silent_sensors", sensorId]     when the sweep reported it silent (ms)
//   ["duplicate_sensors", sensorId]  the duplicateSince of the duplicate it reported (ms)

/** The sensors reported under one key prefix, each with a number, in one Deno KV store. */
export class AlertMarks {
  constructor(private readonly kv: Deno.Kv, private readonly prefix: string) {}

  /** The sensors reported, by id, with the number each was marked with, as the store holds them. */
  async load(): Promise<Map<string, number>> {
    const marks = new Map<string, number>();
    for await (const entry of this.kv.list<number>({ prefix: [this.prefix] })) {
      marks.set(String(entry.key[1]), entry.value);
    }
    return marks;
  }

  /** Remembers that sensor `id` was reported, with `value`. */
  async mark(id: string, value: number): Promise<void> {
    await this.kv.set([this.prefix, id], value);
  }

  /** Forgets that sensor `id` was reported (what was reported ended, or the sensor went). */
  async unmark(id: string): Promise<void> {
    await this.kv.delete([this.prefix, id]);
  }
}
