// JSON events POSTed to a webhook (reference-backend/http/webhook.ts), against real receivers on
// 127.0.0.1: in order, retried with a growing wait until taken, not again after a refusal, given
// up after the last attempt; `send` never waits, even on a receiver that does not answer; past
// its bound the oldest waiting event is dropped.
import assert from "node:assert/strict";
import { type DeliveryPolicy, Webhook } from "../../../reference-backend/http/mod.ts";
import { setLogOptions } from "../../../lib/log.ts";

const FAST: DeliveryPolicy = {
  maxQueued: 100,
  maxAttempts: 4,
  firstWaitMs: 50,
  maxWaitMs: 400,
  timeoutMs: 2_000,
};

/** A receiver on 127.0.0.1 answering each request with `answer(n)`; what it received, and when. */
function receiver(answer: (n: number, body: unknown) => Response | Promise<Response>) {
  const received: { at: number; body: unknown }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    received.push({ at: performance.now(), body });
    return await answer(received.length, body);
  });
  return { url: `http://127.0.0.1:${server.addr.port}/hook/s3cr3t-path`, received, server };
}

/** Waits until `done()` or fails after `ms`. */
async function until(done: () => boolean, ms = 5_000) {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("webhook: events arrive in order; a 503 is tried again, later each time", async () => {
  setLogOptions({ level: "error" });
  const hook = receiver((n) => new Response(null, { status: n <= 3 ? 503 : 204 }));
  const webhook = new Webhook(hook.url, FAST);
  try {
    webhook.send({ event: 1 });
    webhook.send({ event: 2 });
    await until(() => hook.received.length === 5);
    assert.deepEqual(hook.received.map((r) => r.body), [
      { event: 1 },
      { event: 1 },
      { event: 1 },
      { event: 1 },
      { event: 2 },
    ]);
    const waits = hook.received.slice(1, 4).map((r, i) => r.at - hook.received[i].at);
    assert.ok(waits[0] >= 45 && waits[1] >= 95 && waits[2] >= 195, `waits ${waits}`);
  } finally {
    await webhook.close();
    await hook.server.shutdown();
    setLogOptions({ level: "info" });
  }
});

Deno.test("webhook: a 4xx is not sent again; after the last attempt the event is given up, the next goes", async () => {
  setLogOptions({ level: "error" });
  const hook = receiver((_n, body) =>
    new Response(null, { status: (body as { event: string }).event === "refused" ? 400 : 500 })
  );
  const webhook = new Webhook(hook.url, FAST);
  try {
    webhook.send({ event: "refused" });
    webhook.send({ event: "failing" });
    await until(() => hook.received.length === 1 + FAST.maxAttempts);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(hook.received.length, 1 + FAST.maxAttempts, "no attempt past the last");
  } finally {
    await webhook.close();
    await hook.server.shutdown();
    setLogOptions({ level: "info" });
  }
});

Deno.test("webhook: send never waits, even on a receiver that does not answer; past its bound the oldest is dropped", async () => {
  setLogOptions({ level: "error" });
  const hang = Promise.withResolvers<Response>();
  const hook = receiver((n) => n === 1 ? hang.promise : new Response(null, { status: 204 }));
  const webhook = new Webhook(hook.url, { ...FAST, maxQueued: 3 });
  try {
    const started = performance.now();
    for (let i = 0; i < 10; i++) webhook.send({ event: i });
    assert.ok(performance.now() - started < 20, "send queues and returns");
    await until(() => hook.received.length === 1);
    hang.resolve(new Response(null, { status: 204 }));
    await until(() => hook.received.length === 4);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Event 0 was in flight when the others came: it went out; of the nine behind it, only the
    // newest three were kept.
    assert.deepEqual(hook.received.map((r) => (r.body as { event: number }).event), [0, 7, 8, 9]);
  } finally {
    await webhook.close();
    await hook.server.shutdown();
    setLogOptions({ level: "info" });
  }
});
