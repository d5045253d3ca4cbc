// reference-backend/store/coalesce.ts: writes to one record, one at a time, with the waiting ones
// merged. A thousand heartbeats of one sensor at once used to race for one Deno KV record: each
// read it, all but one failed the atomic check, retried, and gave up as 500s. Here the first
// writes; the others wait, merged into one item, and the next single write answers them all. Memory
// per key stays one merged item, however many wait.

/** Too many requests wait for one key: the caller answers 429 with Retry-After. */
export class TooManyWaiting extends Error {}

interface Lane<T, R> {
  /** The merged items waiting for the write after the current one, and who waits for them. */
  next: { item: T; waiters: number; done: PromiseWithResolvers<R> } | undefined;
}

/** Serializes `write` per key, merging the items that wait with `merge`. */
export class Coalescer<T, R> {
  readonly #lanes = new Map<string, Lane<T, R>>();

  constructor(
    private readonly merge: (earlier: T, later: T) => T,
    private readonly write: (key: string, item: T) => Promise<R>,
    private readonly maxWaiting: number,
  ) {}

  /**
   * Writes `item` for `key`, alone or merged with others submitted while an earlier write for the
   * key ran; resolves with the result of the write that covered it. Throws TooManyWaiting when
   * `maxWaiting` requests already wait for the key.
   */
  submit(key: string, item: T): Promise<R> {
    const lane = this.#lanes.get(key);
    if (lane === undefined) {
      const fresh: Lane<T, R> = { next: undefined };
      this.#lanes.set(key, fresh);
      return this.#run(key, fresh, item);
    }
    if (lane.next === undefined) {
      lane.next = { item, waiters: 1, done: Promise.withResolvers<R>() };
    } else {
      if (lane.next.waiters >= this.maxWaiting) {
        return Promise.reject(new TooManyWaiting(`${lane.next.waiters} requests wait for ${key}`));
      }
      lane.next.item = this.merge(lane.next.item, item);
      lane.next.waiters++;
    }
    return lane.next.done.promise;
  }

  async #run(key: string, lane: Lane<T, R>, item: T): Promise<R> {
    try {
      return await this.write(key, item);
    } finally {
      this.#after(key, lane);
    }
  }

  /** Starts the merged write that waited, or retires the lane when none did. */
  #after(key: string, lane: Lane<T, R>): void {
    const next = lane.next;
    if (next === undefined) {
      this.#lanes.delete(key);
      return;
    }
    lane.next = undefined;
    this.#run(key, lane, next.item).then(next.done.resolve, next.done.reject);
  }
}
