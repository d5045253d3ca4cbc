// Which route a request reaches (reference-backend/http/target.ts, api/handler.ts; issue 20): only
// its plain path, so that a proxy judging the raw path and the backend never disagree. Dot
// segments, percent-escapes, backslashes and a Host with a path are 400, never the route they
// decode to; an unknown path is 404 and a wrong method 405. Raw requests to a real backend on
// loopback; the plain-path rule in process at the end.
import assert from "node:assert/strict";
import { isPlainPath } from "../../../reference-backend/http/mod.ts";
import { rawToBackend, startRefBackend } from "../../support/refbackend.ts";

Deno.test("routing: dot segments, percent-escapes, backslashes, a Host with a path or an absolute target are 400, never the admin route they decode to", async () => {
  await using backend = await startRefBackend();
  const admin = `Authorization: Bearer ${backend.adminToken}\r\n`;
  // The URL parser reads each of these as /api/sensors (or moves the path with the Host).
  for (
    const [target, host] of [
      ["/api/sensors/enroll/%2e%2e/%2e%2e/sensors", "localhost"],
      ["/api/sensors/enroll/../../sensors", "localhost"],
      ["/api\\sensors", "localhost"],
      ["/api/./sensors", "localhost"],
      ["//api/sensors", "localhost"],
      ["/api/sensor%73", "localhost"],
      ["/sensors", "localhost/api"],
      ["http://localhost/api/sensors", "elsewhere"],
    ]
  ) {
    const reply = await rawToBackend(
      backend,
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${admin}Connection: close\r\n\r\n`,
    );
    assert.match(reply, /^HTTP\/1\.1 400 /, `${target} with Host ${host}`);
    assert.doesNotMatch(reply, /"sensors":/);
  }
  // The plain path itself, with a query, still works.
  const plain = await rawToBackend(
    backend,
    `GET /api/sensors?limit=1 HTTP/1.1\r\nHost: localhost\r\n${admin}Connection: close\r\n\r\n`,
  );
  assert.match(plain, /^HTTP\/1\.1 200 [\s\S]*"sensors":\[\]/);
  assert.doesNotMatch(
    backend.output(),
    /path must be plain.*%2e/,
    "the refused target is not logged",
  );
});

Deno.test("routes: an unknown path is 404 and a wrong method 405 with Allow", async () => {
  await using backend = await startRefBackend();
  assert.equal((await backend.call("GET", "/api/nothing")).status, 404);
  const head = await fetch(`${backend.url}/api/sensors/heartbeat`, { method: "HEAD" });
  assert.equal(head.status, 405, "`status --check` gets an answer");
  assert.equal(head.headers.get("allow"), "POST");
  await head.body?.cancel();
});

Deno.test("routing: a plain path is unreserved characters between single slashes, no segment of dots", () => {
  for (const path of ["/", "/api/sensors", "/console/", "/install.sh", "/a/b.c/d_e~f-g"]) {
    assert.ok(isPlainPath(path), path);
  }
  for (
    const path of [
      "",
      "api",
      "//",
      "/a//b",
      "/.",
      "/..",
      "/a/./b",
      "/a/../b",
      "/a/...",
      "/%2e",
      "/a\\b",
      "/a b",
      "/a#b",
      "/ä",
      "/a;b",
      "/a:b",
    ]
  ) {
    assert.ok(!isPlainPath(path), path);
  }
});
