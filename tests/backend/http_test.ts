// tests/backend/http_test.ts: requests to the backend (docs/protocol.md): endpoints joined with
// exactly one `/`, the User-Agent, no redirect followed, a timeout over the whole exchange body
// included, and a 1 MiB cap on what is read. The requests go to real Deno.serve servers on
// 127.0.0.1.

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Backend,
  endpoint,
  MAX_REPLY_BYTES,
  request,
  TransportError,
} from "../../lib/backend/http.ts";
import { startBackend } from "../support/backend.ts";

/** The backend description request() takes, for a test server's URL. */
function backendAt(url: string, timeoutMs = 5_000): Backend {
  return { url: new URL(url), timeoutMs };
}

/** The TransportError a request ends in; fails the test when it returns or throws another. */
async function transportFailure(reply: Promise<unknown>): Promise<TransportError> {
  try {
    await reply;
  } catch (error) {
    assert.ok(error instanceof TransportError, `not a TransportError: ${error}`);
    return error;
  }
  assert.fail("the request returned a reply");
}

/**
 * A reply whose body sends one byte every `everyMs` and never ends. `stop` ends it, so the server
 * can shut down and no interval outlives the test.
 */
function tricklingReply(
  everyMs: number,
): { response: Response; stop: () => void; sent: () => number } {
  let sent = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const stop = () => {
    clearInterval(timer);
    try {
      controller?.close();
    } catch {
      // already closed or cancelled by the client going away
    }
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      timer = setInterval(() => {
        c.enqueue(new Uint8Array([0x20]));
        sent++;
      }, everyMs);
    },
    cancel: () => clearInterval(timer),
  });
  const response = new Response(body, { headers: { "content-type": "application/json" } });
  return { response, stop, sent: () => sent };
}

// --- endpoint

Deno.test("endpoint: a base without a path gets /path", () => {
  assert.equal(
    endpoint(new URL("https://b.example"), "api/sensors/enroll").href,
    "https://b.example/api/sensors/enroll",
  );
  assert.equal(
    endpoint(new URL("https://b.example/"), "api/sensors/enroll").href,
    "https://b.example/api/sensors/enroll",
  );
});

Deno.test("endpoint: a path prefix is kept, with or without a trailing slash", () => {
  for (
    const base of [
      "https://b.example/ravenx",
      "https://b.example/ravenx/",
      "https://b.example/ravenx//",
    ]
  ) {
    assert.equal(
      endpoint(new URL(base), "api/sensors/enroll").href,
      "https://b.example/ravenx/api/sensors/enroll",
      base,
    );
  }
});

Deno.test("endpoint: a leading slash on the path does not double the separator", () => {
  assert.equal(
    endpoint(new URL("https://b.example/ravenx/"), "/api/sensors/heartbeat").href,
    "https://b.example/ravenx/api/sensors/heartbeat",
  );
});

Deno.test("endpoint: scheme, host and port of BACKEND_URL are kept", () => {
  assert.equal(
    endpoint(new URL("http://10.10.10.70:5009/a/b"), "api/sensors/enroll").href,
    "http://10.10.10.70:5009/a/b/api/sensors/enroll",
  );
});

Deno.test("endpoint: the base URL is not modified", () => {
  const base = new URL("https://b.example/ravenx/");
  endpoint(base, "api/sensors/enroll");
  assert.equal(base.href, "https://b.example/ravenx/");
});

Deno.test("property: endpoint joins any prefix and path with exactly one '/'", () => {
  const segment = fc.string({
    unit: fc.constantFrom(..."abcxyz0123-_."),
    minLength: 1,
    maxLength: 8,
  })
    .filter((s) => s !== "." && s !== "..");
  fc.assert(
    fc.property(
      fc.array(segment, { maxLength: 3 }),
      fc.array(segment, { minLength: 1, maxLength: 3 }),
      fc.nat(3),
      fc.nat(3),
      (prefix, path, trailing, leading) => {
        const base = new URL(`https://b.example/${prefix.join("/")}${"/".repeat(trailing)}`);
        const url = endpoint(base, `${"/".repeat(leading)}${path.join("/")}`);
        assert.equal(url.pathname, `/${[...prefix, ...path].join("/")}`);
      },
    ),
  );
});

// --- request() against a real server

Deno.test("request: every request carries the contract's User-Agent, Accept and JSON body", async () => {
  await using backend = startBackend(() => Response.json({ success: true }));
  const reply = await request(backendAt(backend.url), "POST", "api/sensors/enroll", {
    body: { hello: "world", n: 1 },
    headers: { "Idempotency-Key": "abc" },
  });
  assert.equal(reply.status, 200);
  assert.equal(reply.text, '{"success":true}');
  const [seen] = backend.requests;
  const arch =
    ({ x86_64: "x86_64", aarch64: "arm64" } as Record<string, string>)[Deno.build.arch] ??
      Deno.build.arch;
  assert.equal(
    seen.headers.get("user-agent"),
    `ravenxcope-sensor-agent/2.0.0 (${Deno.build.os}; ${arch})`,
  );
  assert.equal(seen.headers.get("accept"), "application/json");
  assert.equal(seen.headers.get("content-type"), "application/json");
  assert.equal(seen.headers.get("idempotency-key"), "abc");
  assert.equal(seen.method, "POST");
  assert.equal(seen.path, "/api/sensors/enroll");
  assert.deepEqual(JSON.parse(seen.body), { hello: "world", n: 1 });
});

Deno.test("request: a HEAD carries the User-Agent and no Content-Type", async () => {
  await using backend = startBackend(() => new Response(null, { status: 405 }));
  const reply = await request(backendAt(backend.url), "HEAD", "api/sensors/heartbeat");
  assert.equal(reply.status, 405);
  const [seen] = backend.requests;
  assert.equal(seen.method, "HEAD");
  assert.match(seen.headers.get("user-agent")!, /^ravenxcope-sensor-agent\/2\.0\.0 \(/);
  assert.equal(seen.headers.get("content-type"), null);
});

Deno.test("request: a path prefix of BACKEND_URL reaches the server with one '/'", async () => {
  await using backend = startBackend(() => Response.json({}));
  await request(backendAt(`${backend.url}/ravenx/`), "POST", "api/sensors/enroll", { body: {} });
  assert.equal(backend.requests[0].path, "/ravenx/api/sensors/enroll");
});

Deno.test("request: a 302 comes back as a 302 and its target receives nothing", async () => {
  await using target = startBackend(() => Response.json({ success: true }));
  const location = `${target.url}/api/sensors/enroll`;
  await using backend = startBackend(() =>
    new Response("moved", { status: 302, headers: { location } })
  );
  const reply = await request(backendAt(backend.url), "POST", "api/sensors/enroll", {
    body: { installToken: "not-for-the-target" },
  });
  assert.equal(reply.status, 302);
  assert.equal(reply.headers.get("location"), location);
  assert.equal(backend.requests.length, 1);
  assert.equal(target.requests.length, 0);
});

Deno.test("request: a 307 to another host is not followed either", async () => {
  await using target = startBackend(() => Response.json({ success: true }));
  await using backend = startBackend(() => Response.redirect(`${target.url}/elsewhere`, 307));
  const reply = await request(backendAt(backend.url), "POST", "api/sensors/enroll", { body: {} });
  assert.equal(reply.status, 307);
  assert.equal(target.requests.length, 0);
});

Deno.test("request: a body of exactly 1 MiB is read in full", async () => {
  await using backend = startBackend(() => new Response("x".repeat(MAX_REPLY_BYTES)));
  const reply = await request(backendAt(backend.url), "POST", "api/sensors/enroll", { body: {} });
  assert.equal(MAX_REPLY_BYTES, 1024 * 1024);
  assert.equal(reply.text?.length, MAX_REPLY_BYTES);
});

Deno.test("request: a body of 1 MiB and one byte gives no text", async () => {
  await using backend = startBackend(() => new Response("x".repeat(MAX_REPLY_BYTES + 1)));
  const reply = await request(backendAt(backend.url), "POST", "api/sensors/enroll", { body: {} });
  assert.equal(reply.status, 200);
  assert.equal(reply.text, undefined);
});

Deno.test("request: a 2 MiB body gives no text", async () => {
  await using backend = startBackend(() =>
    new Response(new Uint8Array(2 * 1024 * 1024).fill(0x61))
  );
  const reply = await request(backendAt(backend.url), "POST", "api/sensors/enroll", { body: {} });
  assert.equal(reply.status, 200);
  assert.equal(reply.text, undefined);
});

Deno.test("request: the timeout covers a body that trickles forever (kind timeout)", async () => {
  const trickle = tricklingReply(100);
  const backend = startBackend(() => trickle.response);
  try {
    const started = performance.now();
    const error = await transportFailure(
      request(backendAt(backend.url, 500), "POST", "api/sensors/enroll", { body: {} }),
    );
    const elapsed = performance.now() - started;
    assert.equal(error.kind, "timeout");
    assert.match(
      error.message,
      /no complete reply from http:\/\/127\.0\.0\.1:\d+\/api\/sensors\/enroll/,
    );
    assert.ok(elapsed >= 450 && elapsed < 3_000, `gave up after ${elapsed} ms`);
    assert.ok(trickle.sent() >= 2, "the reply had started: the timeout hit during the body");
  } finally {
    trickle.stop();
    await backend.close();
  }
});

Deno.test("request: a server that never answers times out (kind timeout)", async () => {
  const held = Promise.withResolvers<void>();
  const backend = startBackend(async () => {
    await held.promise;
    return new Response("late");
  });
  try {
    const error = await transportFailure(
      request(backendAt(backend.url, 300), "POST", "api/sensors/enroll", { body: {} }),
    );
    assert.equal(error.kind, "timeout");
  } finally {
    held.resolve();
    await backend.close();
  }
});

Deno.test("request: a refused port is kind unreachable", async () => {
  const closed = startBackend(() => new Response());
  const url = closed.url;
  await closed.close(); // the port is free again: connections are refused
  const error = await transportFailure(
    request(backendAt(url), "POST", "api/sensors/enroll", { body: {} }),
  );
  assert.equal(error.kind, "unreachable");
  assert.match(error.message, /^cannot reach 127\.0\.0\.1:\d+/);
});

Deno.test({
  name: "request: a refused port is kind unreachable whatever the URL's path holds",
  fn: async () => {
    const closed = startBackend(() => new Response());
    const url = closed.url;
    await closed.close();
    for (const prefix of ["/tls", "/handshake", "/certificates"]) {
      const error = await transportFailure(
        request(backendAt(`${url}${prefix}`), "POST", "api/sensors/enroll", { body: {} }),
      );
      assert.equal(error.kind, "unreachable", `${prefix}: ${error.message}`);
    }
  },
});

Deno.test("request: a signal aborted while waiting for the reply is kind aborted", async () => {
  const held = Promise.withResolvers<void>();
  const arrived = Promise.withResolvers<void>();
  const backend = startBackend(async () => {
    arrived.resolve();
    await held.promise;
    return new Response("late");
  });
  try {
    const stop = new AbortController();
    const reply = request(backendAt(backend.url), "POST", "api/sensors/enroll", {
      body: {},
      signal: stop.signal,
    });
    await arrived.promise;
    stop.abort();
    const error = await transportFailure(reply);
    assert.equal(error.kind, "aborted");
  } finally {
    held.resolve();
    await backend.close();
  }
});

Deno.test("request: a signal already aborted sends nothing and is kind aborted", async () => {
  await using backend = startBackend(() => Response.json({}));
  const error = await transportFailure(
    request(backendAt(backend.url), "POST", "api/sensors/enroll", {
      body: {},
      signal: AbortSignal.abort(),
    }),
  );
  assert.equal(error.kind, "aborted");
  assert.equal(backend.requests.length, 0);
});

Deno.test("request: a transport error never repeats the request's headers", async () => {
  const closed = startBackend(() => new Response());
  const url = closed.url;
  await closed.close();
  const secret = `Bearer sensor-${crypto.randomUUID()}`;
  const error = await transportFailure(
    request(backendAt(url), "POST", "api/sensors/heartbeat", {
      headers: { Authorization: secret },
    }),
  );
  assert.ok(!error.message.includes(secret));
});
