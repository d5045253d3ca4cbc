// reference-backend/http/webhook.ts: JSON events POSTed to one URL (ALERT_WEBHOOK_URL), in the
// order they came, one at a time, off every request's path. `send` only queues: a receiver that is
// slow, down or refusing delays nothing but the events behind it. Each event is tried until the
// receiver answers 2xx, with a wait that doubles between tries (Retry-After, when the receiver
// gives one, as far as the cap), and given up after MAX_ATTEMPTS or on a 4xx other than 408 or 429,
// which says that sending it again cannot help. The queue is bounded: past MAX_QUEUED the oldest
// event is dropped and the log says so. The URL may hold a secret (many receivers take one in the
// path): the log names only its origin.
import { log } from "../../lib/log.ts";

/** How events are delivered; tests shorten the waits. */
export interface DeliveryPolicy {
  readonly maxQueued: number;
  readonly maxAttempts: number;
  readonly firstWaitMs: number;
  readonly maxWaitMs: number;
  readonly timeoutMs: number;
}

/** Up to 1,000 events wait; each is tried 8 times over about two minutes, 10 s per try at most. */
export const DELIVERY: DeliveryPolicy = {
  maxQueued: 1000,
  maxAttempts: 8,
  firstWaitMs: 1000,
  maxWaitMs: 60_000,
  timeoutMs: 10_000,
};

/** A queue of JSON events for one receiver. */
export class Webhook {
  readonly #queue: unknown[] = [];
  readonly #stop = new AbortController();
  readonly #origin: string;
  #running: Promise<void> | undefined;
  #dropped = 0;

  constructor(private readonly url: string, private readonly policy = DELIVERY) {
    this.#origin = new URL(url).origin;
  }

  /** Queues `event` for delivery; never waits, never throws. */
  send(event: unknown): void {
    if (this.#stop.signal.aborted) return;
    if (this.#queue.length >= this.policy.maxQueued) {
      this.#queue.shift();
      if (this.#dropped++ === 0) {
        log.warn("alert webhook: too many events waiting; dropping the oldest", {
          receiver: this.#origin,
          maxQueued: this.policy.maxQueued,
        });
      }
    }
    this.#queue.push(event);
    this.#running ??= this.#drain().finally(() => this.#running = undefined);
  }

  /** Stops delivering; what still waits is logged as undelivered. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    if (this.#queue.length > 0) {
      log.warn("alert webhook: stopped with events undelivered", {
        receiver: this.#origin,
        events: this.#queue.length,
      });
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stop.signal.aborted) {
      const event = this.#queue[0];
      await this.#deliver(event);
      if (this.#queue[0] === event) this.#queue.shift();
      if (this.#queue.length === 0 && this.#dropped > 0) {
        log.warn("alert webhook: events were dropped", { dropped: this.#dropped });
        this.#dropped = 0;
      }
    }
  }

  /** Tries `event` until it is taken, refused for good, or out of attempts. */
  async #deliver(event: unknown): Promise<void> {
    const body = JSON.stringify(event);
    let waitMs = this.policy.firstWaitMs;
    for (let attempt = 1; attempt <= this.policy.maxAttempts; attempt++) {
      if (this.#stop.signal.aborted) return;
      let why: string;
      let retryAfterMs = 0;
      try {
        const response = await fetch(this.url, {
          method: "POST",
          headers: { "Content-Type": "application/json", "User-Agent": "ravenxcope-backend" },
          body,
          redirect: "manual",
          signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.policy.timeoutMs)]),
        });
        await response.body?.cancel();
        if (response.ok) return;
        why = `HTTP ${response.status}`;
        if (response.status < 500 && response.status !== 408 && response.status !== 429) {
          log.warn("alert webhook: the receiver refused an event; not sending it again", {
            receiver: this.#origin,
            status: response.status,
          });
          return;
        }
        retryAfterMs = 1000 * Number(response.headers.get("retry-after") ?? 0) || 0;
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        why = String(error).split("\n")[0];
      }
      if (attempt === this.policy.maxAttempts) {
        log.warn("alert webhook: giving up on an event", { receiver: this.#origin, attempt, why });
        return;
      }
      log.info("alert webhook: delivery failed; trying again", {
        receiver: this.#origin,
        attempt,
        why,
      });
      await this.#sleep(Math.min(this.policy.maxWaitMs, Math.max(waitMs, retryAfterMs)));
      waitMs *= 2;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#stop.signal.addEventListener("abort", done, { once: true });
    });
  }
}
