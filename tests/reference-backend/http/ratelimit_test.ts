// How often a client address may fail (reference-backend/http/ratelimit.ts), in process with a
// given clock: install-token failures in a window, admin-token guesses behind a doubling wait. The
// limits at work in a real backend are load_test.ts (enrollment) and console/console_test.ts
// (logins and Bearer guesses).
import assert from "node:assert/strict";
import { FailureLimiter, GuessBackoff } from "../../../reference-backend/http/mod.ts";

Deno.test("enroll limit: failures count per address in a window from the first one", () => {
  const limiter = new FailureLimiter({ limit: 2, windowMs: 1000 });
  assert.equal(limiter.retryAfterMs("a", 0), 0);
  limiter.fail("a", 0);
  limiter.fail("a", 100);
  assert.equal(limiter.retryAfterMs("a", 400), 600);
  assert.equal(limiter.retryAfterMs("b", 400), 0);
  assert.equal(limiter.retryAfterMs("a", 1000), 0, "a new window");
});

Deno.test("admin backoff: ten free wrong tokens, then a doubling wait capped at a minute; the right one resets it", () => {
  const backoff = new GuessBackoff({
    free: 3,
    firstWaitMs: 1_000,
    maxWaitMs: 4_000,
    forgetMs: 60_000,
  });
  for (let i = 0; i < 2; i++) backoff.fail("a", 0);
  assert.equal(backoff.retryAfterMs("a", 0), 0);
  backoff.fail("a", 0);
  assert.equal(backoff.retryAfterMs("a", 0), 1_000);
  backoff.fail("a", 1_000);
  assert.equal(backoff.retryAfterMs("a", 1_000), 2_000);
  backoff.fail("a", 3_000);
  backoff.fail("a", 7_000);
  assert.equal(backoff.retryAfterMs("a", 7_000), 4_000, "capped");
  assert.equal(backoff.retryAfterMs("b", 7_000), 0, "another address waits for nothing");
  backoff.succeed("a");
  assert.equal(backoff.retryAfterMs("a", 7_000), 0);
  backoff.fail("c", 0);
  backoff.fail("c", 0);
  backoff.fail("c", 0);
  assert.equal(backoff.retryAfterMs("c", 61_001), 0, "forgotten after a quiet while");
});
