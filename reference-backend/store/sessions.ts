// reference-backend/store/sessions.ts: the console's sessions and one-time login codes, kept in the
// store so that a restart of the backend logs nobody out. Each is keyed by the SHA-256 of its
// secret (the cookie's session id, the code), never by the secret, and expires by itself. Sessions
// are also kept in memory once seen, so that a page's polling reads no record from disk.
//
//   ["console_sessions", sha256(sessionId)]   SessionRecord, expires with the session
//   ["console_login_codes", sha256(code)]     the code's expiry, expires with it

/** An open console session. */
export interface SessionRecord {
  readonly createdAt: number;
  readonly expiresAt: number;
}

// Sessions open at once, at most: past it, the oldest ends when a new one opens.
const MAX_SESSIONS = 1000;

/** The console's sessions and login codes in one Deno KV store. */
export class SessionRecords {
  readonly #seen = new Map<string, SessionRecord>();

  constructor(private readonly kv: Deno.Kv) {}

  /** Stores a session under `key` (the digest of its id). */
  async open(key: string, record: SessionRecord, now: number): Promise<void> {
    const open: [Deno.KvKey, SessionRecord][] = [];
    for await (const entry of this.kv.list<SessionRecord>({ prefix: ["console_sessions"] })) {
      if (entry.value.expiresAt > now) open.push([entry.key, entry.value]);
    }
    if (open.length >= MAX_SESSIONS) {
      open.sort(([, a], [, b]) => a.createdAt - b.createdAt);
      for (const [old] of open.slice(0, open.length - MAX_SESSIONS + 1)) {
        await this.kv.delete(old);
        this.#seen.delete(String(old[1]));
      }
    }
    await this.kv.set(["console_sessions", key], record, { expireIn: record.expiresAt - now });
    this.#seen.set(key, record);
  }

  /** The session stored under `key`, if it is open at `now`. */
  async find(key: string, now: number): Promise<SessionRecord | undefined> {
    let record = this.#seen.get(key);
    if (record === undefined) {
      record = (await this.kv.get<SessionRecord>(["console_sessions", key])).value ?? undefined;
      if (record !== undefined) this.#seen.set(key, record);
    }
    if (record !== undefined && record.expiresAt <= now) {
      this.#seen.delete(key);
      return undefined;
    }
    return record;
  }

  /** Ends the session stored under `key`. */
  async close(key: string): Promise<void> {
    this.#seen.delete(key);
    await this.kv.delete(["console_sessions", key]);
  }

  /** Ends every session; returns how many were open. */
  async closeAll(): Promise<number> {
    this.#seen.clear();
    let count = 0;
    for await (const entry of this.kv.list({ prefix: ["console_sessions"] })) {
      await this.kv.delete(entry.key);
      count++;
    }
    return count;
  }

  /** Stores a one-time login code under `key` (the digest of the code) until `expiresAt`. */
  async addCode(key: string, expiresAt: number, now: number): Promise<void> {
    await this.kv.set(["console_login_codes", key], expiresAt, { expireIn: expiresAt - now });
  }

  /** True, once, for a code stored under `key` and unexpired at `now`; it is spent either way. */
  async spendCode(key: string, now: number): Promise<boolean> {
    const entry = await this.kv.get<number>(["console_login_codes", key]);
    if (entry.value === null) return false;
    const spent = await this.kv.atomic().check(entry).delete(entry.key).commit();
    return spent.ok && entry.value > now;
  }
}
