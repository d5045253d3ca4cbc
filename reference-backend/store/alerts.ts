// reference-backend/store/alerts.ts: which sensors the alert sweep has reported silent, kept in the
// store so that a restart neither repeats a "went silent" nor forgets to say "came back".
//
//   ["silent_sensors", sensorId]  when the sweep reported it silent (ms)

/** The sensors reported silent and not yet back, in one Deno KV store. */
export class SilentMarks {
  constructor(private readonly kv: Deno.Kv) {}

  /** The ids of the sensors reported silent, as the store holds them. */
  async load(): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const entry of this.kv.list({ prefix: ["silent_sensors"] })) {
      ids.add(String(entry.key[1]));
    }
    return ids;
  }

  /** Remembers that sensor `id` was reported silent at `at`. */
  async mark(id: string, at: number): Promise<void> {
    await this.kv.set(["silent_sensors", id], at);
  }

  /** Forgets that sensor `id` was reported silent (it came back, was revoked or removed). */
  async unmark(id: string): Promise<void> {
    await this.kv.delete(["silent_sensors", id]);
  }
}
