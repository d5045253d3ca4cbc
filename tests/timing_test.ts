// lib/timing.ts: a step is marked once, the first time it ends, so a mark inside the heartbeat loop
// adds nothing after the first beat.
import assert from "node:assert/strict";
import { mark, timingFields } from "../lib/timing.ts";

Deno.test("timing: a step marked again and again keeps its first time and one field", async () => {
  mark("timing-test-step");
  const first = timingFields()["timing-test-step"];
  await new Promise((done) => setTimeout(done, 5));
  for (let i = 0; i < 1_000; i++) mark("timing-test-step");
  const fields = timingFields();
  assert.equal(fields["timing-test-step"], first);
  assert.equal(Object.keys(fields).filter((step) => step === "timing-test-step").length, 1);
  mark("timing-test-later");
  assert.ok(timingFields()["timing-test-later"] >= first);
});
