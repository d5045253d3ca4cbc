// The audit trail (reference-backend/api/audit.ts; docs/api.md, GET /api/audit) over real HTTP:
// who (the admin token, or the console session that asked), from where (the real client, behind a
// trusted proxy the one it named), what and when, for mints, cancellations, revocations,
// removals, logins and rotations (asked for, issued, completed); newest first, paged by cursor,
// admin only, and never a token.
import assert from "node:assert/strict";
import { fingerprint } from "../../../lib/secrets.ts";
import { assertNoTokens } from "../../support/agent.ts";
import { consoleLogin, enrollDirectly } from "../../support/console.ts";
import { enrollSeed, type RefBackend, startRefBackend } from "../../support/refbackend.ts";
import { beatFrom, bindingOf, rotateFrom } from "../../support/sensor_calls.ts";

/** `init` to `path` from the loopback address `from`; the reply's status and JSON. */
async function from(backend: RefBackend, address: string, path: string, init: RequestInit) {
  using client = Deno.createHttpClient({ localAddress: address });
  const response = await fetch(`${backend.url}${path}`, { ...init, client });
  return { status: response.status, body: await response.json() };
}

// deno-lint-ignore no-explicit-any
type Event = any;

Deno.test("audit: who, from where, what and when: the admin token, a console session, a proxy's client", async () => {
  await using backend = await startRefBackend(30, undefined, {
    env: { TRUSTED_PROXIES: "127.0.0.9" },
  });
  const admin = {
    Authorization: `Bearer ${backend.adminToken}`,
    "Content-Type": "application/json",
  };
  // A mint by the admin token from 127.0.0.5.
  const minted = await from(backend, "127.0.0.5", "/api/install-tokens", {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ label: "rack-5" }),
  });
  assert.equal(minted.status, 201);
  const token = minted.body.data.installToken;
  // A cancellation through the proxy at 127.0.0.9, for the client it names.
  const cancelled = await from(backend, "127.0.0.9", `/api/install-tokens/${fingerprint(token)}`, {
    method: "DELETE",
    headers: { ...admin, "X-Forwarded-For": "198.51.100.7" },
  });
  assert.equal(cancelled.status, 200);
  // A login and a revocation in the console, from 127.0.0.6.
  const sensor = await enrollDirectly(backend, "sensor-audited", 1, "rack-6");
  using client = Deno.createHttpClient({ localAddress: "127.0.0.6" });
  const login = await fetch(`${backend.url}/console/api/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ secret: backend.adminToken }),
    client,
  });
  const { csrfToken } = (await login.json()).data;
  const cookie = login.headers.get("set-cookie")!.split(";")[0];
  const revoked = await fetch(`${backend.url}/console/api/sensors/${sensor.id}/revoke`, {
    method: "POST",
    headers: { Cookie: cookie, "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
    body: "{}",
    client,
  });
  assert.equal(revoked.status, 200, await revoked.text());
  const removed = await backend.call("DELETE", `/api/sensors/${sensor.id}`);
  assert.equal(removed.status, 200);

  const trail = await backend.call("GET", "/api/audit");
  assert.equal(trail.status, 200);
  assertNoTokens(JSON.stringify(trail.body));
  const events: Event[] = trail.body.data.events;
  const session = events.find((e) => e.action === "login")!.who;
  assert.match(session, /^console session [0-9a-f]{12}$/);
  const pick = ({ who, from, action, target, detail }: Event) => ({
    who,
    from,
    action,
    target,
    detail,
  });
  const mine = events.filter((e) => !(e.action === "install-token.mint" && e.from === "127.0.0.1"));
  assert.deepEqual(mine.map(pick), [
    {
      who: "admin token",
      from: "127.0.0.1",
      action: "sensor.delete",
      target: `sensor ${sensor.id}`,
      detail: "rack-6 on sensor-audited",
    },
    {
      who: session,
      from: "127.0.0.6",
      action: "sensor.revoke",
      target: `sensor ${sensor.id}`,
      detail: "rack-6 on sensor-audited",
    },
    {
      who: session,
      from: "127.0.0.6",
      action: "login",
      target: null,
      detail: "with the admin token",
    },
    {
      who: "admin token",
      from: "198.51.100.7",
      action: "install-token.cancel",
      target: `install token sha256:${fingerprint(token)}`,
      detail: "label rack-5",
    },
    {
      who: "admin token",
      from: "127.0.0.5",
      action: "install-token.mint",
      target: `install token sha256:${fingerprint(token)}`,
      detail: mine.at(-1).detail,
    },
  ]);
  assert.match(mine.at(-1).detail, /^label rack-5, expires \d{4}-\d\d-\d\dT/);
  const times = events.map((e) => Date.parse(e.at));
  assert.deepEqual(times, [...times].sort((a, b) => b - a), "newest first");
  assert.equal((await backend.call("GET", "/api/audit", undefined, null)).status, 401);
  // Through the console too, for a logged-in page.
  const page = await fetch(`${backend.url}/console/api/audit?limit=2`, {
    headers: { Cookie: cookie },
  });
  assert.equal(page.status, 200);
  assert.equal((await page.json()).data.events.length, 2);
});

Deno.test("audit: pages by cursor, newest first, each event once; bad limits and cursors are 400", async () => {
  await using backend = await startRefBackend();
  for (let i = 0; i < 7; i++) await backend.mint({ label: `rack-${i}` });
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null
      ? "limit=3"
      : `limit=3&cursor=${encodeURIComponent(cursor)}`;
    const page = await backend.call("GET", `/api/audit?${query}`);
    assert.equal(page.status, 200);
    seen.push(...page.body.data.events.map((e: Event) => e.detail.split(",")[0]));
    cursor = page.body.data.nextCursor;
  } while (cursor !== null);
  assert.deepEqual(seen, [6, 5, 4, 3, 2, 1, 0].map((i) => `label rack-${i}`));
  for (const query of ["limit=0", "limit=501", "cursor=nope", "since=1"]) {
    assert.equal((await backend.call("GET", `/api/audit?${query}`)).status, 400, query);
  }
  // Logins count as well: a wrong secret is no event (the log has it), a right one is.
  assert.equal((await consoleLogin(backend, "wrong-secret-000")).status, 401);
  assert.equal((await consoleLogin(backend, backend.adminToken)).status, 200);
  const latest = await backend.call("GET", "/api/audit?limit=1");
  assert.equal(latest.body.data.events[0].action, "login");
});

Deno.test("audit: a rotation asked of one sensor or the fleet, the new token issued and its first use are events; asking again and a token issued again are not", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollSeed(backend);
  await enrollSeed(backend);
  const host = await bindingOf("rack-5");
  const one = `/api/sensors/${sensor.sensorId}/rotate`;
  assert.equal((await backend.call("POST", one)).status, 200);
  assert.equal((await backend.call("POST", one)).status, 200, "asked again: no change");
  const asked = await beatFrom(backend, sensor.sensorToken, host);
  assert.equal(asked.body.data.rotateSensorToken, true);
  const fresh = (await rotateFrom(backend, sensor.sensorToken, host)).body.data.sensorToken;
  const again = (await rotateFrom(backend, sensor.sensorToken, host)).body.data.sensorToken;
  assert.equal(again, fresh, "a lost reply: the same token again");
  assert.equal((await beatFrom(backend, fresh, host)).status, 200);
  assert.equal((await beatFrom(backend, fresh, host)).status, 200);
  assert.deepEqual((await backend.call("POST", "/api/sensors/rotate", {})).body.data, {
    requested: 2,
  });
  const trail = (await backend.call("GET", "/api/audit")).body.data.events as Event[];
  const rotations = trail.filter((e) => /rotation/.test(e.action))
    .map(({ who, from, action, target, detail }) => ({ who, from, action, target, detail }));
  const old = `sha256:${fingerprint(sensor.sensorToken)}`;
  const next = `sha256:${fingerprint(fresh)}`;
  const name = "sensor-1 on sensor-ubuntu-host";
  const target = `sensor ${sensor.sensorId}`;
  assert.deepEqual(rotations, [
    {
      who: "admin token",
      from: "127.0.0.1",
      action: "fleet.rotation.request",
      target: "every sensor not revoked",
      detail: "2 sensors",
    },
    {
      who: "sensor",
      from: "127.0.0.1",
      action: "sensor.rotation.complete",
      target,
      detail: `${name}: token ${next} in use, ${old} refused from now on`,
    },
    {
      who: "sensor",
      from: "127.0.0.1",
      action: "sensor.rotation.issue",
      target,
      detail: `${name}: new token ${next} for ${old}`,
    },
    {
      who: "admin token",
      from: "127.0.0.1",
      action: "sensor.rotation.request",
      target,
      detail: "sensor-ubuntu-host",
    },
  ]);
  assertNoTokens(JSON.stringify(trail));
});
