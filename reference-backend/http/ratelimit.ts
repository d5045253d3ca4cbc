// reference-backend/http/ratelimit.ts: how often a client address may fail. Two policies, both
// keyed by the real client's address (client.ts), so that one client's failures never hold back
// another's:
//   - FailureLimiter, for install tokens: `limit` failures per window, then 429 until the window
//     ends. A token is 256 random bits, so guessing one is hopeless anyway; the limit keeps a
//     guesser from costing the store a read per guess, and makes it visible in the log.
//   - GuessBackoff, for the admin token (at least 16 characters, chosen by a person): a few free
//     failures, then a wait that doubles with each further one up to a short cap. Guessing slows to
//     one try per cap per address, while the operator, who may share that address, waits seconds
//     rather than being locked out for a window, and is forgotten the moment the right token passes.
// Pure: the caller passes the clock.

/** An address may fail `limit` times within `windowMs` (counted from its first failure). */
export interface FailureLimit {
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * Failed enrollments allowed per client address unless ENROLL_FAILURE_LIMIT and
 * ENROLL_FAILURE_WINDOW_SECONDS say otherwise: ten in ten minutes.
 */
export const DEFAULT_ENROLL_FAILURES: FailureLimit = { limit: 10, windowMs: 600_000 };

interface Window {
  readonly start: number;
  failures: number;
}

// Addresses remembered at most; past it, expired entries are dropped, then the oldest ones. A
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
    if (this.#windows.size >= MAX_ADDRESSES) {
      prune(this.#windows, (entry) => now - entry.start >= this.limit.windowMs);
    }
    this.#windows.set(address, { start: now, failures: 1 });
  }

  #current(address: string, now: number): Window | undefined {
    const window = this.#windows.get(address);
    if (window === undefined) return undefined;
    if (now - window.start < this.limit.windowMs) return window;
    this.#windows.delete(address);
    return undefined;
  }
}

/**
 * After `free` failures in a row an address waits `firstWaitMs`, doubled by each further failure up
 * to `maxWaitMs`. An address quiet for `forgetMs` after its wait starts afresh.
 */
export interface BackoffPolicy {
  readonly free: number;
  readonly firstWaitMs: number;
  readonly maxWaitMs: number;
  readonly forgetMs: number;
}

interface Guesses {
  failures: number;
  /** When the address may try again. */
  until: number;
}

// ADMIN_TOKEN may be as short as 16 characters, chosen by a person: wrong ones (a Bearer header or
// a console login) slow their address down, or it could be guessed at full speed. Ten free (typos),
// then 1 s, 2 s, 4 s ... up to a minute between tries: about a thousand guesses a day per address,
// while the operator at that address waits a minute at most, and no other address waits at all.
/** The admin token's policy: ten free wrong tokens, then a doubling wait capped at a minute. */
export const ADMIN_BACKOFF: BackoffPolicy = {
  free: 10,
  firstWaitMs: 1_000,
  maxWaitMs: 60_000,
  forgetMs: 15 * 60_000,
};

/** Wrong guesses per address, answered with a growing wait instead of a lockout. */
export class GuessBackoff {
  readonly #addresses = new Map<string, Guesses>();

  constructor(private readonly policy: BackoffPolicy) {}

  /** Milliseconds until `address` may try again at `now`, or 0 when it may try now. */
  retryAfterMs(address: string, now: number): number {
    const entry = this.#current(address, now);
    return entry === undefined ? 0 : Math.max(0, entry.until - now);
  }

  /** Counts a wrong guess of `address` at `now`; from the `free`-th on, it must wait. */
  fail(address: string, now: number): void {
    const { free, firstWaitMs, maxWaitMs, forgetMs } = this.policy;
    let entry = this.#current(address, now);
    if (entry === undefined) {
      if (this.#addresses.size >= MAX_ADDRESSES) {
        prune(this.#addresses, (old) => now - old.until >= forgetMs);
      }
      this.#addresses.set(address, entry = { failures: 0, until: now });
    }
    entry.failures++;
    if (entry.failures >= free) {
      // 2^n overflows to Infinity for a long run of failures, which min() then caps.
      entry.until = now + Math.min(maxWaitMs, firstWaitMs * 2 ** (entry.failures - free));
    }
  }

  /** The right token came from `address`: its count starts afresh. */
  succeed(address: string): void {
    this.#addresses.delete(address);
  }

  #current(address: string, now: number): Guesses | undefined {
    const entry = this.#addresses.get(address);
    if (entry === undefined) return undefined;
    if (now - entry.until < this.policy.forgetMs) return entry;
    this.#addresses.delete(address);
    return undefined;
  }
}

/** Drops the entries `expired` says are, then the oldest ones until the map has room. */
function prune<T>(map: Map<string, T>, expired: (entry: T) => boolean): void {
  for (const [address, entry] of map) if (expired(entry)) map.delete(address);
  // A Map iterates in insertion order: the first keys are the oldest.
  for (const address of map.keys()) {
    if (map.size < MAX_ADDRESSES) break;
    map.delete(address);
  }
}
