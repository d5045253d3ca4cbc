// reference-backend/ratelimit.ts: how many failed enrollments a client address may make per
// window. An install token is 256 random bits, so guessing one is hopeless anyway; the limit keeps
// a guesser from costing the store a read per guess, and makes a guesser visible in the log.
// Successful enrollments neither count nor are refused unless their address is already over the
// limit. Pure: the caller passes the clock.

/** An address may fail `limit` times within `windowMs` (counted from its first failure). */
export interface FailureLimit {
  readonly limit: number;
  readonly windowMs: number;
}

interface Window {
  readonly start: number;
  failures: number;
}

// Addresses remembered at most; past it, expired windows are dropped, then the oldest ones. A
// flood from many addresses then forgets some, which only ever lets more requests through.
const MAX_ADDRESSES = 100_000;

/** Failed attempts per address in fixed windows. */
export class FailureLimiter {
  readonly #windows = new Map<string, Window>();

  constructor(private readonly limit: FailureLimit) {}

  /** Milliseconds until `address` may try again at `now`, or 0 when it may try now. */
  retryAfterMs(address: string, now: number): number {
    const window = this.#current(address, now);
    if (window === undefined || window.failures < this.limit.limit) return 0;
    return window.start + this.limit.windowMs - now;
  }

  /** Counts a failed attempt of `address` at `now`. */
  fail(address: string, now: number): void {
    const window = this.#current(address, now);
    if (window !== undefined) {
      window.failures++;
      return;
    }
    if (this.#windows.size >= MAX_ADDRESSES) this.#prune(now);
    this.#windows.set(address, { start: now, failures: 1 });
  }

  #current(address: string, now: number): Window | undefined {
    const window = this.#windows.get(address);
    if (window === undefined) return undefined;
    if (now - window.start < this.limit.windowMs) return window;
    this.#windows.delete(address);
    return undefined;
  }

  #prune(now: number): void {
    for (const [address, window] of this.#windows) {
      if (now - window.start >= this.limit.windowMs) this.#windows.delete(address);
    }
    // Still full: the oldest windows go (a Map iterates in insertion order).
    for (const address of this.#windows.keys()) {
      if (this.#windows.size < MAX_ADDRESSES) break;
      this.#windows.delete(address);
    }
  }
}
