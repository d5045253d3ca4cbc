// lib/deadline.ts: one network operation's signal fires on its time limit or on the agent's stop,
// and once disposed holds neither a timer nor a listener (the test sanitizers check the timer). A
// loop's timer is one timer re-armed per operation.
import assert from "node:assert/strict";
import { deadline, loopTimer } from "../lib/deadline.ts";

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

Deno.test("loopTimer: re-arming moves the limit to the new operation, whose callback alone fires", async () => {
  using loop = loopTimer();
  const fired: string[] = [];
  loop.timer(80, () => fired.push("first"));
  await sleep(50);
  const started = performance.now();
  loop.timer(80, () => fired.push("second"));
  await sleep(50); // the first operation's limit has passed: nothing of it fires
  assert.deepEqual(fired, []);
  while (fired.length === 0 && performance.now() - started < 2_000) await sleep(5);
  assert.deepEqual(fired, ["second"]);
  assert.ok(performance.now() - started >= 75, "the limit runs from the re-arming");
});

Deno.test("loopTimer: a disarmed operation never fires, and the timer serves the next one", async () => {
  using loop = loopTimer();
  const fired: string[] = [];
  const disarm = loop.timer(20, () => fired.push("disarmed"));
  disarm();
  await sleep(60);
  assert.deepEqual(fired, []);
  using limit = deadline(20, undefined, loop.timer);
  // The timer is unref'd (the operation keeps a process alive, a test's await does not): this one
  // stands in for the operation.
  const operation = setTimeout(() => {}, 2_000);
  await new Promise((done) => limit.signal.addEventListener("abort", done));
  clearTimeout(operation);
  assert.equal(limit.timedOut(), true);
});

Deno.test("loopTimer: another time limit gets a timer of its own length", async () => {
  using loop = loopTimer();
  const fired: number[] = [];
  loop.timer(5_000, () => fired.push(5_000));
  loop.timer(20, () => fired.push(20));
  await sleep(80);
  assert.deepEqual(fired, [20]);
});

Deno.test("loopTimer: an armed timer does not keep the process alive", async () => {
  const script = `import { loopTimer } from ${
    JSON.stringify(new URL("../lib/deadline.ts", import.meta.url).href)
  };
const loop = loopTimer();
loop.timer(60_000, () => console.log("fired"));`;
  const started = performance.now();
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    stdout: "piped",
  }).output();
  assert.equal(child.code, 0);
  assert.equal(new TextDecoder().decode(child.stdout), "");
  assert.ok(performance.now() - started < 30_000, "the child exited without waiting for its timer");
});
