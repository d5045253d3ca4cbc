// reference-backend/store/audit.ts: the audit trail: who did what to which sensor or token, from
// where and when, for an operator to read back (GET /api/audit). Kept in the store so it survives a
// restart, and bounded twice: each event expires after MAX_AGE_MS, and past MAX_EVENTS the oldest
// go first. An event never holds a token, only what the token names (a fingerprint, a sensor id).
//
//   ["audit", at, seq]  AuditEvent; `seq` orders the events of one millisecond in this process
//
// Events that come while one is being written share the next commit (groupcommit.ts): a burst of
// mints or revocations costs the disk a few commits, not one each.
import { GroupCommit } from "./groupcommit.ts";

/** One thing that happened, as the audit trail keeps it. */
export interface AuditEvent {
  /** ms since the epoch, server clock. */
  readonly at: number;
  /**
   * "admin token", "console session <fingerprint>", "sensor" (a request made with the sensor
   * token of the target), or "backend" for what the backend noticed.
   */
  readonly who: string;
  /** The real client's address (behind a trusted proxy, the one it named); null for "backend". */
  readonly from: string | null;
  /**
   * What happened, e.g. "sensor.revoke", "install-token.mint", "login", "sensor.silent",
   * "sensor.rotation.complete".
   */
  readonly action: string;
  /** What it happened to: "sensor <id>", "install token sha256:<fingerprint>", or null. */
  readonly target: string | null;
  /** A few words more (a label, a hostname, a count), or null. Never a secret. */
  readonly detail: string | null;
}

/** How much the trail keeps. */
export interface AuditLimits {
  readonly maxEvents: number;
  readonly maxAgeMs: number;
}

/** 10,000 events, none older than 90 days. */
export const AUDIT_LIMITS: AuditLimits = { maxEvents: 10_000, maxAgeMs: 90 * 86_400_000 };

// Trimming happens once this many events past the bound, not at every event.
const TRIM_SLACK = 100;
// An event's key and value: its texts are a few short fields (a label is at most 200 characters).
const EVENT_BYTES_BOUND = 4096;

/** A page of events, newest first, and the cursor of the next page (null on the last). */
export interface AuditPage {
  readonly events: AuditEvent[];
  readonly nextCursor: string | null;
}

/** The audit trail in one Deno KV store. */
export class AuditTrail {
  #count = 0;
  #seq = 0;
  #trimming: Promise<void> | undefined;
  readonly #writes: GroupCommit;

  constructor(private readonly kv: Deno.Kv, private readonly limits = AUDIT_LIMITS) {
    this.#writes = new GroupCommit(kv);
  }

  /** Counts what the store holds (when it opens), so that the bound is kept from then on. */
  async load(): Promise<void> {
    this.#count = 0;
    for await (const _ of this.kv.list({ prefix: ["audit"] })) this.#count++;
  }

  /** Appends `event`; once the trail is over its bound, drops the oldest events. */
  async record(event: AuditEvent): Promise<void> {
    const key = ["audit", event.at, this.#seq++];
    const { maxAgeMs } = this.limits;
    await this.#writes.commit({
      add: (op) => op.set(key, event, { expireIn: maxAgeMs }),
      checks: 0,
      mutations: 1,
      bytes: EVENT_BYTES_BOUND,
    });
    if (++this.#count > this.limits.maxEvents + TRIM_SLACK) {
      // One trim at a time: two would delete the same oldest events and count them twice.
      this.#trimming ??= this.#trim().finally(() => this.#trimming = undefined);
      await this.#trimming;
    }
  }

  /**
   * Up to `limit` events, newest first, older than `cursor` (a previous page's nextCursor), none
   * older than the age bound at `now` (the store deletes expired keys only some time later).
   * Throws a TypeError for a cursor no page gave.
   */
  async page(limit: number, now: number, cursor?: string): Promise<AuditPage> {
    const selector: Deno.KvListSelector = cursor === undefined
      ? { prefix: ["audit"] }
      : { prefix: ["audit"], end: ["audit", ...readCursor(cursor)] };
    const events: AuditEvent[] = [];
    let last: Deno.KvKey | undefined;
    let expired = false;
    for await (const entry of this.kv.list<AuditEvent>(selector, { reverse: true, limit })) {
      // Newest first: once one is too old, so are all that follow.
      expired = now - entry.value.at > this.limits.maxAgeMs;
      if (expired) break;
      events.push(entry.value);
      last = entry.key;
    }
    const more = !expired && events.length === limit && last !== undefined;
    return { events, nextCursor: more ? writeCursor(last!) : null };
  }

  async #trim(): Promise<void> {
    const excess = this.#count - this.limits.maxEvents;
    const keys: Deno.KvKey[] = [];
    for await (const entry of this.kv.list({ prefix: ["audit"] }, { limit: excess })) {
      keys.push(entry.key);
    }
    for (let start = 0; start < keys.length; start += 500) {
      const op = this.kv.atomic();
      for (const key of keys.slice(start, start + 500)) op.delete(key);
      await op.commit();
    }
    this.#count -= keys.length;
  }
}

/** The cursor after the event at `key`: its time and sequence, as base64url JSON. */
function writeCursor(key: Deno.KvKey): string {
  const text = JSON.stringify([Number(key[1]), Number(key[2])]);
  return new TextEncoder().encode(text).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** The time and sequence a cursor names; a TypeError for anything else. */
function readCursor(cursor: string): [number, number] {
  try {
    const text = new TextDecoder().decode(Uint8Array.fromBase64(cursor, { alphabet: "base64url" }));
    const [at, seq] = JSON.parse(text);
    if (Number.isSafeInteger(at) && Number.isSafeInteger(seq)) return [at, seq];
  } catch {
    // reported below
  }
  throw new TypeError("not an audit cursor");
}
