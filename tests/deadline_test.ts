// lib/deadline.ts: one network operation's signal fires on its time limit or on the agent's stop,
// and once disposed holds neither a timer nor a listener (the test sanitizers check the timer).
import assert from "node:assert/strict";
import { deadline } from "../lib/deadline.ts";

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
