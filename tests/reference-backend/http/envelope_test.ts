// A request body's cap (reference-backend/http/envelope.ts; docs/api.md, Limits): over 1 MiB is
// 413, by Content-Length or while a chunked body is read, and the token it carried stays unspent.
// Without the proxy in front, Deno.serve answers `Expect: 100-continue` itself before the cap is
// judged. Real backends on loopback; 1-byte chunks are load_test.ts.
import assert from "node:assert/strict";
import { rawToBackend, seedPayload, startRefBackend } from "../../support/refbackend.ts";

Deno.test("enroll: a body over 1 MiB is 413", async () => {
  await using backend = await startRefBackend();
  const installToken = await backend.mint();
  const huge = { ...seedPayload(installToken), osInfo: "x".repeat(1024 * 1024) };
  const answer = await backend.enroll(huge);
  assert.equal(answer.status, 413);
  // Without Content-Length (chunked), the cap holds while reading.
  const stream = new Blob([JSON.stringify(huge)]).stream();
  const chunked = await fetch(`${backend.url}/api/sensors/enroll`, {
    method: "POST",
    body: stream,
    headers: { "Content-Type": "application/json" },
  });
  assert.equal(chunked.status, 413);
  await chunked.body?.cancel();
  assert.equal((await backend.enroll(seedPayload(installToken))).status, 200);
});

Deno.test("backend alone: Deno.serve answers `Expect: 100-continue` before the handler runs; the size check follows (the proxy's job, reverse_proxy_test.ts)", async () => {
  await using backend = await startRefBackend();
  const reply = await rawToBackend(
    backend,
    "POST /api/sensors/enroll HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
      "Content-Length: 2000000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
  );
  // What the docs say of development mode: a 100, then the 413 by Content-Length, body unread.
  assert.match(reply, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 413 /);
});
