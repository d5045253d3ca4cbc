// The operator console (reference-backend/console/) over plain HTTP: its headers and guards, its
// sessions (kept in the store: a restart logs nobody out; logging out everywhere ends them all),
// the favicon, and its browser modules type-checked against the DOM. In a real Chromium:
// console_browser_test.ts (the flow with a real agent), console_fleet_test.ts (5,000 sensors),
// console_admin_test.ts (removal, install tokens, the audit trail).
import assert from "node:assert/strict";
import { launchBackend } from "../../../reference-backend/launch.ts";
import { assertNoTokens, PROJECT } from "../../support/agent.ts";
import { consoleLogin as login, enrollDirectly } from "../../support/console.ts";
import { startRefBackend } from "../../support/refbackend.ts";
import { tempDir } from "../../support/tempdir.ts";

Deno.test("console: the page has no inline script and every reply carries a strict CSP", async () => {
  await using backend = await startRefBackend();
  const page = await fetch(`${backend.url}/console`);
  const html = await page.text();
  const csp = page.headers.get("content-security-policy") ?? "";
  assert.equal(page.status, 200);
  assert.match(csp, /(^|; )script-src 'self'(;|$)/);
  assert.match(csp, /(^|; )default-src 'none'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  // Every <script> loads a file; no inline handler, no javascript: URL, no inline style.
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  assert.ok(scripts.length > 0);
  for (const [, attributes, content] of scripts) {
    assert.match(attributes, /\bsrc="\/console\/static\/[a-z]+\.js"/);
    assert.equal(content.trim(), "");
  }
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
  assert.doesNotMatch(html, /javascript:/i);
  assert.doesNotMatch(html, /\sstyle\s*=|<style/i);
  for (const file of ["app.js", "console.css"]) {
    const asset = await fetch(`${backend.url}/console/static/${file}`);
    await asset.body?.cancel();
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get("content-security-policy"), csp);
  }
  const refused = await fetch(`${backend.url}/console/api/fleet`);
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("content-security-policy"), csp);
  await refused.body?.cancel();
});

Deno.test("console: the login sets an HttpOnly, SameSite=Strict cookie; a wrong secret gets 401", async () => {
  await using backend = await startRefBackend();
  const wrong = await login(backend, "not-the-admin-token");
  assert.equal(wrong.status, 401);
  assert.equal(wrong.cookie, undefined);
  const right = await login(backend, backend.adminToken);
  assert.equal(right.status, 200);
  const setCookie = right.response.headers.get("set-cookie") ?? "";
  assert.match(setCookie, /; Path=\/console; HttpOnly; SameSite=Strict$/);
  assert.doesNotMatch(setCookie, /Secure/); // plain http on loopback: a Secure cookie is not sent
  const fleet = await fetch(`${backend.url}/console/api/fleet`, {
    headers: { Cookie: right.cookie! },
  });
  assert.equal(fleet.status, 200);
  assert.ok(fleet.headers.get("etag"));
  const again = await fetch(`${backend.url}/console/api/fleet`, {
    headers: { Cookie: right.cookie!, "If-None-Match": fleet.headers.get("etag")! },
  });
  await fleet.body?.cancel();
  assert.equal(again.status, 304);
  assertNoTokens(JSON.stringify(await fleet.headers) + setCookie);
});

Deno.test("console: a page of the fleet and a sensor's panel are 304 while nothing changed, though its token ages; a beat changes them", async () => {
  await using backend = await startRefBackend();
  const sensor = await enrollDirectly(backend, "sensor-etag.example", 1);
  const { cookie } = await login(backend, backend.adminToken);
  const get = async (path: string, etag?: string) => {
    const headers: Record<string, string> = { Cookie: cookie! };
    if (etag !== undefined) headers["If-None-Match"] = etag;
    const response = await fetch(`${backend.url}${path}`, { headers });
    await response.body?.cancel();
    return { status: response.status, etag: response.headers.get("etag")! };
  };
  const views = ["/console/api/fleet", `/console/api/sensors/${sensor.id}`];
  const first = await Promise.all(views.map((path) => get(path)));
  // Past a second: the token's age in seconds has moved on, nothing else has.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  for (const [i, path] of views.entries()) {
    assert.equal((await get(path, first[i].etag)).status, 304, path);
  }
  await sensor.beat(1, 0);
  for (const [i, path] of views.entries()) {
    assert.equal((await get(path, first[i].etag)).status, 200, path);
  }
});

Deno.test("console: admin-token guesses (login and Bearer) from one address get 429 after 10; other addresses still log in", async () => {
  await using backend = await startRefBackend();
  const from = async (address: string, path: string, init: RequestInit) => {
    using client = Deno.createHttpClient({ localAddress: address });
    const response = await fetch(`${backend.url}${path}`, { ...init, client });
    await response.body?.cancel();
    return { status: response.status, retryAfter: response.headers.get("retry-after") };
  };
  const guess = (address: string, secret: string) =>
    from(address, "/console/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ secret }),
    });
  const statuses = [];
  for (let i = 0; i < 6; i++) statuses.push((await guess("127.0.0.3", `wrong-${i}`)).status);
  for (let i = 0; i < 4; i++) {
    const bearer = { headers: { Authorization: `Bearer wrong-${i}` } };
    statuses.push((await from("127.0.0.3", "/api/sensors", bearer)).status);
  }
  assert.deepEqual(statuses, Array(10).fill(401));
  const limited = await guess("127.0.0.3", "wrong-again");
  assert.equal(limited.status, 429);
  assert.match(limited.retryAfter ?? "", /^\d+$/);
  // Over the limit a guess is not judged, the right one included; the Bearer API is limited too.
  assert.equal((await guess("127.0.0.3", backend.adminToken)).status, 429);
  const bearer = { headers: { Authorization: `Bearer ${backend.adminToken}` } };
  assert.equal((await from("127.0.0.3", "/api/sensors", bearer)).status, 429);
  assert.equal((await guess("127.0.0.1", backend.adminToken)).status, 200);
  assert.equal((await from("127.0.0.1", "/api/sensors", bearer)).status, 200);
});

Deno.test("console: a one-time login code works once", async () => {
  await using backend = await startRefBackend();
  const minted = await fetch(`${backend.url}/console/api/login-codes`, {
    method: "POST",
    headers: { Authorization: `Bearer ${backend.adminToken}` },
  });
  assert.equal(minted.status, 201);
  const { code } = (await minted.json()).data;
  assert.match(code, /^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
  assert.equal((await login(backend, code.toLowerCase())).status, 200);
  assert.equal((await login(backend, code)).status, 401);
  const anonymous = await fetch(`${backend.url}/console/api/login-codes`, { method: "POST" });
  await anonymous.body?.cancel();
  assert.equal(anonymous.status, 401);
});

Deno.test("console: a change without the CSRF token, from another origin, or as a form is refused", async () => {
  await using backend = await startRefBackend();
  const sensorId = (await enrollDirectly(backend, "sensor-csrf")).id;
  const { cookie, csrfToken } = await login(backend, backend.adminToken);
  const revoke = async (headers: Record<string, string>, body = "{}") => {
    const response = await fetch(`${backend.url}/console/api/sensors/${sensorId}/revoke`, {
      method: "POST",
      headers: { Cookie: cookie!, ...headers },
      body,
    });
    await response.body?.cancel();
    return response.status;
  };
  const json = { "Content-Type": "application/json" };
  assert.equal(await revoke(json), 403, "no CSRF token");
  assert.equal(await revoke({ ...json, "X-CSRF-Token": "guess" }), 403, "a wrong CSRF token");
  const token = { ...json, "X-CSRF-Token": csrfToken };
  assert.equal(await revoke({ ...token, Origin: "http://127.0.0.2:8000" }), 403, "cross-origin");
  assert.equal(await revoke({ ...token, "Sec-Fetch-Site": "same-site" }), 403, "same-site");
  const form = { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrfToken };
  assert.equal(await revoke(form, "a=b"), 415, "a form body");
  assert.equal((await backend.fleet())[0].revokedAt, null);
  assert.equal(await revoke(token), 200, "the console's own request");
  assert.notEqual((await backend.fleet())[0].revokedAt, null);
});

Deno.test("console: the browser modules type-check against the DOM (checkJs)", async () => {
  // The DOM's library cannot join `deno check` of the backend (its globals clash with Deno's), so
  // the page's JavaScript is checked on its own, with a config that has only the DOM and ES libs.
  await using dir = await tempDir();
  const config = dir.join("deno.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({ compilerOptions: { checkJs: true, lib: ["dom", "dom.iterable", "esnext"] } }),
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["check", "-q", "--config", config, "reference-backend/console/static/"],
    cwd: PROJECT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
});

Deno.test("console: a session and a one-time code survive a restart of the backend; the store holds neither secret", async () => {
  await using backend = await startRefBackend();
  const { cookie, csrfToken } = await login(backend, backend.adminToken);
  const minted = await fetch(`${backend.url}/console/api/login-codes`, {
    method: "POST",
    headers: { Authorization: `Bearer ${backend.adminToken}` },
  });
  const { code } = (await minted.json()).data;
  assert.equal((await backend.stop()).code, 0);
  const kv = new TextDecoder("latin1").decode(await Deno.readFile(`${backend.dataDir}/kv.sqlite3`));
  const id = cookie!.split("=")[1];
  for (const secret of [id, csrfToken, code, code.replaceAll("-", "")]) {
    assert.ok(!kv.includes(secret), "a console secret is in the store in clear");
  }
  await using again = await launchBackend({
    dataDir: backend.dataDir,
    adminToken: backend.adminToken,
  });
  const session = await fetch(`${again.url}/console/api/session`, { headers: { Cookie: cookie! } });
  assert.equal(session.status, 200);
  assert.equal((await session.json()).data.csrfToken, csrfToken, "the same CSRF token");
  assert.equal((await login(again, code)).status, 200, "the code minted before the restart");
  assert.equal((await login(again, code)).status, 401, "and only once");
});

Deno.test("console: logging out ends that session; logging out everywhere ends every session", async () => {
  await using backend = await startRefBackend();
  const sessions = await Promise.all([1, 2, 3].map(() => login(backend, backend.adminToken)));
  const status = async (cookie: string) => {
    const response = await fetch(`${backend.url}/console/api/fleet`, {
      headers: { Cookie: cookie },
    });
    await response.body?.cancel();
    return response.status;
  };
  const logout = async (which: typeof sessions[number], everywhere: boolean) => {
    const response = await fetch(`${backend.url}/console/api/logout`, {
      method: "POST",
      headers: {
        Cookie: which.cookie!,
        "Content-Type": "application/json",
        "X-CSRF-Token": which.csrfToken,
      },
      body: JSON.stringify({ everywhere }),
    });
    assert.match(response.headers.get("set-cookie") ?? "", /Max-Age=0/);
    return (await response.json()).success;
  };
  assert.equal(await logout(sessions[0], false), true);
  assert.deepEqual(await Promise.all(sessions.map((s) => status(s.cookie!))), [401, 200, 200]);
  assert.equal(await logout(sessions[1], true), true);
  assert.deepEqual(await Promise.all(sessions.map((s) => status(s.cookie!))), [401, 401, 401]);
  const trail = await backend.call("GET", "/api/audit");
  const actions = trail.body.data.events.map((event: { action: string }) => event.action);
  assert.deepEqual(actions.slice(0, 2), ["logout.everywhere", "logout"]);
  assert.equal(trail.body.data.events[0].detail, "2 sessions ended");
});

Deno.test("console: /favicon.ico and the page's icon are served, not 404", async () => {
  await using backend = await startRefBackend();
  for (const path of ["/favicon.ico", "/console/static/favicon.svg"]) {
    const response = await fetch(`${backend.url}${path}`);
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), "image/svg+xml");
    assert.match(await response.text(), /^<svg /);
  }
  const page = await (await fetch(`${backend.url}/console`)).text();
  assert.match(page, /<link rel="icon" href="\/console\/static\/favicon\.svg"/);
});

Deno.test("console: the login page says how to get a one-time code; the backend's log says where the console is", async () => {
  await using backend = await startRefBackend();
  const page = await (await fetch(`${backend.url}/console`)).text();
  assert.match(page, /one-time code/);
  assert.match(page, /\/console\/api\/login-codes/);
  assert.match(
    backend.output(),
    new RegExp(
      `operator console: ${backend.url}/console; log in with ADMIN_TOKEN, or with a ` +
        `one-time code: curl -s -X POST -H "Authorization: Bearer \\$ADMIN_TOKEN" ` +
        `${backend.url}/console/api/login-codes`,
    ),
  );
  assert.ok(!backend.output().includes(backend.adminToken));
});
