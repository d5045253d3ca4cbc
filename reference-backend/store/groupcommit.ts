// reference-backend/store/groupcommit.ts: many atomic writes committed as one (group commit). Each
// Deno KV commit is a SQLite transaction ending in an fsync: a heartbeat per transaction spent most
// of its cost there, and a fleet beating at once queued behind the disk. Here writes that arrive
// while a commit runs wait for it, then go together in the next one, within the store's limits per
// operation. Each keeps its own `check`s, so the batch holds only if every write in it would have
// held alone; when it does not, its writes are committed one by one, and only those whose own check
// failed are told so. Nothing is acknowledged before the commit that holds it.
import { commit } from "./records.ts";

/** One write that could be an atomic operation of its own. */
export interface Write {
  /** Adds the write's checks, then its mutations, to `op`. */
  readonly add: (op: Deno.AtomicOperation) => void;
  /** Its checks, mutations, and bytes (keys and values, an upper bound). */
  readonly checks: number;
  readonly mutations: number;
  readonly bytes: number;
}

/** What a write came to: committed (with the commit's versionstamp), or its check failed. */
export type Outcome = Deno.KvCommitResult | Deno.KvCommitError;

// Deno KV's limits per atomic operation are 100 checks, 1,000 mutations and 819,200 bytes; a
// batch stays below them with room to spare. A write larger than a batch goes alone.
const MAX_CHECKS = 100;
const MAX_MUTATIONS = 900;
const MAX_BYTES = 600_000;

interface Waiting {
  readonly write: Write;
  readonly done: PromiseWithResolvers<Outcome>;
}

/** Commits writes to one store, batched while a commit is in flight. */
export class GroupCommit {
  #queue: Waiting[] = [];
  #running = false;

  constructor(private readonly kv: Deno.Kv) {}

  /**
   * Commits `write` in the next batch; resolves with its outcome once that batch is durable.
   * Rejects with the store's error for this write alone (TooLargeToStore, say).
   */
  commit(write: Write): Promise<Outcome> {
    const done = Promise.withResolvers<Outcome>();
    this.#queue.push({ write, done });
    if (!this.#running) this.#drain();
    return done.promise;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) await this.#commitBatch(this.#take());
    } finally {
      this.#running = false;
    }
  }

  /** The longest head of the queue within the limits; at least one write. */
  #take(): Waiting[] {
    let checks = 0;
    let mutations = 0;
    let bytes = 0;
    let n = 0;
    for (const { write } of this.#queue) {
      checks += write.checks;
      mutations += write.mutations;
      bytes += write.bytes;
      if (n > 0 && (checks > MAX_CHECKS || mutations > MAX_MUTATIONS || bytes > MAX_BYTES)) break;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #commitBatch(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) return await this.#commitAlone(batch[0]);
    const op = this.kv.atomic();
    for (const { write } of batch) write.add(op);
    let outcome: Outcome | undefined;
    try {
      outcome = await commit(op);
    } catch {
      outcome = undefined; // too large together, or a store error: each alone says which
    }
    if (outcome?.ok) {
      for (const { done } of batch) done.resolve(outcome);
      return;
    }
    for (const waiting of batch) await this.#commitAlone(waiting);
  }

  async #commitAlone({ write, done }: Waiting): Promise<void> {
    const op = this.kv.atomic();
    write.add(op);
    try {
      done.resolve(await commit(op));
    } catch (error) {
      done.reject(error);
    }
  }
}
