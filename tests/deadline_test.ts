// lib/deadline.ts: one network operation's signal fires on its time limit or on the agent's stop,
// and once disposed holds neither a timer nor a listener (the test sanitizers check the timer). A
// loop's deadlines share one timer, re-armed per operation, and one listener on the stop.
import assert from "node:assert/strict";
import { deadline, loopDeadlines } from "../lib/deadline.ts";

Deno.test("deadline: fires after its time limit and says it timed out", async () => {
  using limit = deadline(10);
  await new Promise((done) => limit.signal.addEventListener("abort", done));
  assert.equal(limit.timedOut(), true);
});

Deno.test("deadline: a stop aborts it at once, and it was no timeout", () => {
  const stop = new AbortController();
  using limit = deadline(60_000, stop.signal);
  stop.abort();
  assert.equal(limit.signal.aborted, true);
  assert.equal(limit.timedOut(), false);
});

Deno.test("deadline: a stop that came before starts it aborted", () => {
  using limit = deadline(60_000, AbortSignal.abort());
  assert.equal(limit.signal.aborted, true);
});

Deno.test("deadline: once disposed, a later stop no longer reaches it", () => {
  const stop = new AbortController();
  const limit = deadline(60_000, stop.signal);
  limit[Symbol.dispose]();
  stop.abort();
  assert.equal(limit.signal.aborted, false);
});

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Waits until `signal` aborts (or 5 s pass), keeping the event loop alive as a request would. */
async function aborted(signal: AbortSignal): Promise<void> {
  const started = performance.now();
  while (!signal.aborted && performance.now() - started < 5_000) await sleep(5);
}

Deno.test("loopDeadlines: each operation's limit runs from its start; an operation over before it never times out", async () => {
  const stop = new AbortController();
  // A limit of 1 s and looks 600 ms apart: a loaded machine's late timers have 400 ms of room.
  using limits = loopDeadlines(1_000, stop.signal);
  const first = limits.next();
  await sleep(600);
  first[Symbol.dispose]();
  const started = performance.now();
  using second = limits.next();
  await sleep(600); // the first operation's limit has passed, the second's has not
  assert.equal(first.signal.aborted, false);
  assert.equal(second.signal.aborted, false);
  await aborted(second.signal);
  assert.equal(second.timedOut(), true);
  assert.ok(performance.now() - started >= 990, "the limit runs from the operation's start");
  assert.equal(first.timedOut(), false);
});

Deno.test("loopDeadlines: a stop aborts the operation in progress, and was no timeout; later operations start aborted", () => {
  const stop = new AbortController();
  using limits = loopDeadlines(60_000, stop.signal);
  using before = limits.next();
  before[Symbol.dispose]();
  using during = limits.next();
  stop.abort();
  assert.equal(during.signal.aborted, true);
  assert.equal(during.timedOut(), false);
  assert.equal(before.signal.aborted, false, "an operation already over is left alone");
  using after = limits.next();
  assert.equal(after.signal.aborted, true);
});

Deno.test("loopDeadlines: once disposed, neither its timer nor the stop reaches an operation", async () => {
  const stop = new AbortController();
  const limits = loopDeadlines(20, stop.signal);
  const operation = limits.next();
  limits[Symbol.dispose]();
  await sleep(60);
  stop.abort();
  assert.equal(operation.signal.aborted, false);
});

Deno.test("loopDeadlines: an armed limit does not keep the process alive", async () => {
  const script = `import { loopDeadlines } from ${
    JSON.stringify(new URL("../lib/deadline.ts", import.meta.url).href)
  };
const limits = loopDeadlines(60_000, new AbortController().signal);
limits.next().signal.addEventListener("abort", () => console.log("fired"));`;
  const started = performance.now();
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    stdout: "piped",
  }).output();
  assert.equal(child.code, 0);
  assert.equal(new TextDecoder().decode(child.stdout), "");
  assert.ok(performance.now() - started < 30_000, "the child exited without waiting for its timer");
});
