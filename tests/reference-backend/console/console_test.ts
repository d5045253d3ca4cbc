// The operator console (reference-backend/console/, issue 15): its headers and guards over plain
// HTTP, its browser modules type-checked against the DOM, and the whole flow in a real headless
// Chromium: log in, mint, the real agent enrolls with the copied token and beats, revoke, exit 77.
// CONSOLE_SCREENSHOTS=docs regenerates docs/console*.png from these runs.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "puppeteer-core";
import { assertNoTokens, PROJECT, startAgent, usedTokens } from "../../support/agent.ts";
import { browserUnavailable, launchBrowser } from "../../support/browser.ts";
import {
  heartbeatBody,
  type RefBackend,
  seedPayload,
  startRefBackend,
} from "../../support/refbackend.ts";
import { FIXTURE, FIXTURE_READS } from "../../support/seed.ts";
import { tempDir } from "../../support/tempdir.ts";

const noBrowser = await browserUnavailable();
if (noBrowser !== undefined) console.log(`skipped: console_test.ts (browser tests): ${noBrowser}`);
const SCREENSHOTS = Deno.env.get("CONSOLE_SCREENSHOTS");

// Puppeteer keeps its pipe to the browser and a few timers open between calls; the browser and
// its profile are closed and removed by `await using` instead.
const browserTest = {
  ignore: noBrowser !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
};

/** A sensor-supplied name that would run script, hide text or reverse it if it were not inert. */
const HOSTILE_HOSTNAME =
  '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">\u202Egnp.exe\u200B\u0085';
/** How the console must show it: as text, the bidi override and invisible characters escaped. */
const HOSTILE_SHOWN =
  '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">\\u202Egnp.exe\\u200B\\u0085';

// ---------------------------------------------------------------------------------------------
// Over plain HTTP

/** Logs in with `secret` over fetch; returns the cookie and the CSRF token. */
async function login(backend: RefBackend, secret: string) {
  const response = await fetch(`${backend.url}/console/api/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ secret }),
  });
  const body = await response.json();
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  return { status: response.status, cookie, csrfToken: body.data?.csrfToken as string, response };
}

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

// ---------------------------------------------------------------------------------------------
// In a real browser

/** A sensor enrolled over the API (no agent): its id, and a way to send its next beats. */
interface DirectSensor {
  readonly id: string;
  beat(count: number, pauseMs?: number): Promise<void>;
}

/** Enrolls a sensor over the API and lets it beat `beats` times; `await sensor.beat(n)` for more. */
async function enrollDirectly(
  backend: RefBackend,
  hostname: string,
  beats = 0,
  label = "rack-4",
): Promise<DirectSensor> {
  const installToken = await backend.mint({ note: "direct" });
  const enrolled = await backend.enroll({ ...seedPayload(installToken), hostname });
  assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body?.error));
  const { sensorId, sensorToken } = enrolled.body.data;
  let sent = 0;
  const sensor = {
    id: sensorId as string,
    async beat(count: number, pauseMs = 60) {
      for (let n = 0; n < count; n++, sent++) {
        // Counters that grow unevenly, so the chart has a shape.
        const base = heartbeatBody(1_000_000 * sent * sent + 50_000 * (sent % 3));
        const interfaces = (base.interfaces as Record<string, unknown>[]).map((nic, i) => ({
          ...nic,
          bytesRecv: i === 0 ? 2_000_000 * sent + 400_000 * (sent % 4) : nic.bytesRecv,
        }));
        const body = { ...base, hostname, sensorLabel: label, interfaces };
        assert.equal((await backend.beat(sensorToken, body)).status, 200);
        await new Promise((done) => setTimeout(done, pauseMs));
      }
    },
  };
  await sensor.beat(beats);
  return sensor;
}

/** Opens the console in a new page and logs in through its form with the admin token. */
async function openConsole(
  browser: RunningBrowserLike,
  backend: RefBackend,
  width = 1280,
): Promise<Page> {
  const page = await browser.browser.newPage();
  await page.setViewport({ width, height: 900 });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${backend.url}/console`);
  await page.waitForSelector("#secret", { visible: true });
  await page.type("#secret", backend.adminToken);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#app", { visible: true });
  assert.deepEqual(errors, []);
  // The token is in no field, attribute or text of the page once the login is sent.
  assert.ok(!(await page.content()).includes(backend.adminToken), "admin token in the page");
  assert.ok(!page.url().includes(backend.adminToken), "admin token in the URL");
  return page;
}

type RunningBrowserLike = Awaited<ReturnType<typeof launchBrowser>>;

/** Waits until the fleet shows the sensor `id` in `state`. */
async function waitForState(page: Page, id: string, state: string, timeout = 15_000) {
  await page.waitForSelector(`#fleet-rows tr[data-sensor-id="${id}"][data-state="${state}"]`, {
    timeout,
  });
}

/**
 * Evaluates `expression` in the page. A string, not a function: this file is type-checked with
 * Deno's libraries, which have no DOM (`document`, `navigator.clipboard`).
 */
function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

async function screenshot(page: Page, name: string) {
  if (SCREENSHOTS === undefined) return;
  await page.screenshot({ path: join(PROJECT, SCREENSHOTS, name), fullPage: true });
}

Deno.test({
  name:
    "console in Chromium: log in, mint, the agent enrolls with the copied token and goes online, revoke exits it 77",
  ...browserTest,
  async fn() {
    await using backend = await startRefBackend(1);
    await using browser = await launchBrowser();
    const page = await openConsole(browser, backend);
    await browser.browser.defaultBrowserContext().overridePermissions(backend.url, [
      "clipboard-read",
      "clipboard-sanitized-write",
    ]);

    // Mint, with a label and an expiry; copy the command and the token with the page's buttons.
    await page.type("#mint-note", "rack 4, row B");
    await page.select("#mint-ttl", "900");
    await page.click("#mint-form button[type=submit]");
    await page.waitForSelector("#install-command", { visible: true });
    const clipboard = () => inPage<string>(page, "navigator.clipboard.readText()");
    await page.click("#install-command-copy");
    await page.waitForFunction(`document.querySelector(".copy-status")?.textContent === "Copied."`);
    const command = await clipboard();
    assert.match(command, new RegExp(`curl -fsSL --fail-early .*'${backend.url}/install\\.sh'`));
    assert.match(command, new RegExp(`sudo bash install\\.sh --backend-url '${backend.url}'`));
    await page.click("#install-token-copy");
    await page.waitForFunction(`navigator.clipboard.readText().then((t) => !t.startsWith("curl"))`);
    const installToken = await clipboard();
    usedTokens.add(installToken);
    assert.match(installToken, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!command.includes(installToken), "the install command holds no token");

    // Done: the token leaves the page; its fingerprint stays.
    await page.click("#minted-done");
    await page.waitForSelector("#minted-once", { hidden: true });
    const listed = await page.$eval("#minted-list", (list) => list.textContent ?? "");
    assert.match(listed, /sha256:[0-9a-f]{12} “rack 4, row B”, expires/);
    assert.ok(!(await page.content()).includes(installToken), "install token still in the page");

    // The real agent, with the copied token, against this backend.
    await using host = await tempDir();
    const config = host.join("sensor-agent.env");
    await Deno.writeTextFile(
      config,
      `SENSOR_ID=sensor-e2e\nINSTALL_TOKEN=${installToken}\nBACKEND_URL=${backend.url}\n`,
    );
    await Deno.writeTextFile(host.join("hostname"), "sensor-e2e-host\n");
    await Deno.writeTextFile(host.join("machine-id"), "0123456789abcdef0123456789abcdef\n");
    const agent = startAgent(["run", "--config", config], {
      read: FIXTURE_READS,
      write: [host.path],
      env: {
        HOST_PROC: `${FIXTURE}/proc`,
        HOST_SYS: `${FIXTURE}/sys`,
        HOST_HOSTNAME_FILE: host.join("hostname"),
        HOST_MACHINE_ID_FILE: host.join("machine-id"),
        SENSOR_IP: "192.0.2.10",
      },
    });
    try {
      // The row appears without a reload and goes online.
      const row = await page.waitForSelector("#fleet-rows tr[data-sensor-id]", { timeout: 15_000 });
      const id = await row!.evaluate((tr) => tr.getAttribute("data-sensor-id")!);
      await waitForState(page, id, "online");
      await page.waitForFunction(
        `document.querySelector('tr[data-sensor-id="${id}"] td[data-label="Label"]')
          ?.textContent === "sensor-e2e"`,
        { timeout: 10_000 },
      );
      const cells = await page.$$eval(
        `tr[data-sensor-id="${id}"] th, tr[data-sensor-id="${id}"] td`,
        (all) => all.map((cell) => cell.textContent),
      );
      assert.equal(cells[1], "sensor-e2e-host");
      assert.equal(cells[2], "192.0.2.10");
      const saved = /^SENSOR_TOKEN=(.+)$/m.exec(await Deno.readTextFile(config))?.[1];
      assert.ok(saved, "the agent saved its sensor token");
      usedTokens.add(saved);

      // Details: the interfaces and the chart of the byte rates.
      await page.click(`tr[data-sensor-id="${id}"] button.details`);
      await page.waitForSelector("#detail svg.rate-chart", { visible: true });
      await page.waitForFunction(
        `document.querySelectorAll("#detail table.interfaces tbody tr").length > 0`,
      );
      // Revoke, confirmed in the dialog; the agent's next beat gets 401 and it exits 77.
      // By keyboard first: Enter on the row's Revoke opens the dialog, Escape cancels it.
      await page.focus(`tr[data-sensor-id="${id}"] button.revoke`);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#revoke-dialog[open]");
      assert.equal(await inPage(page, "document.activeElement.id"), "revoke-cancel");
      await page.keyboard.press("Escape");
      await page.waitForSelector("#revoke-dialog:not([open])");
      assert.equal((await backend.fleet())[0].revokedAt, null, "cancel revokes nothing");
      await page.click(`tr[data-sensor-id="${id}"] button.revoke`);
      await page.waitForSelector("#revoke-dialog[open]");
      await page.click("#revoke-confirm");
      await waitForState(page, id, "revoked");
      const run = await agent.exited();
      assert.equal(run.code, 77, run.stderr);
      assert.match(run.stderr, /rejected the sensor token \(HTTP 401\)/);
      assert.ok(!(await page.content()).includes(saved), "sensor token in the page");
    } finally {
      await agent.stop();
    }
    const html = await page.content();
    assertNoTokens(html + (await backend.stop()).output);
  },
});

Deno.test({
  name: "console in Chromium: states follow the interval: online, then late, then silent; revoked",
  ...browserTest,
  async fn() {
    // Interval 4 s: online while the last beat is at most 6 s old, late up to 12 s, then silent.
    // Each state is waited for as it comes, not timed: a loaded machine only makes it slower.
    await using backend = await startRefBackend(4);
    const revoked = (await enrollDirectly(backend, "sensor-04.dc1.example", 2, "rack-9")).id;
    assert.equal((await backend.call("POST", `/api/sensors/${revoked}/revoke`)).status, 200);
    const online = await enrollDirectly(backend, "sensor-01.dc1.example", 8, "rack-1");
    let beating = true;
    const beats = (async () => {
      while (beating) await online.beat(1, 1_000);
    })();
    try {
      await using browser = await launchBrowser();
      const page = await openConsole(browser, backend);
      const silent = (await enrollDirectly(backend, "sensor-03.dc1.example", 1, "rack-3")).id;
      await waitForState(page, silent, "online");
      await waitForState(page, silent, "late", 20_000);
      // Its last beat now is 6 s after the other's: it is late while that one is silent.
      const late = (await enrollDirectly(backend, "sensor-02.dc1.example", 1, "rack-2")).id;
      await waitForState(page, silent, "silent", 20_000);
      await waitForState(page, late, "late", 20_000);
      await waitForState(page, online.id, "online");
      await waitForState(page, revoked, "revoked");
      const revokeButton = await page.$eval(
        `tr[data-sensor-id="${revoked}"] button.revoke`,
        (button) => (button as unknown as { disabled: boolean }).disabled,
      );
      assert.equal(revokeButton, true, "a revoked sensor cannot be revoked again");
      await page.click(`tr[data-sensor-id="${online.id}"] button.details`);
      await page.waitForSelector("#detail svg.rate-chart polyline", { visible: true });
      await screenshot(page, "console.png");
    } finally {
      beating = false;
      await beats;
    }
  },
});

Deno.test({
  name: "console in Chromium: a hostile hostname renders as inert text",
  ...browserTest,
  async fn() {
    await using backend = await startRefBackend(30);
    const { id } = await enrollDirectly(backend, HOSTILE_HOSTNAME, 12, "rack-4\u202Eevil");
    await using browser = await launchBrowser();
    const page = await openConsole(browser, backend);
    await waitForState(page, id, "online");
    const shown = await page.$eval(
      `tr[data-sensor-id="${id}"] th[data-label="Hostname"]`,
      (cell) => cell.textContent,
    );
    assert.equal(shown, HOSTILE_SHOWN);
    const label = await page.$eval(
      `tr[data-sensor-id="${id}"] td[data-label="Label"]`,
      (cell) => cell.textContent,
    );
    assert.equal(label, "rack-4\\u202Eevil");
    await page.click(`tr[data-sensor-id="${id}"] button.details`);
    await page.waitForSelector("#detail svg.rate-chart polyline", { visible: true });
    await page.click(`tr[data-sensor-id="${id}"] button.revoke`);
    await page.waitForSelector("#revoke-dialog[open]");
    const found = await inPage<{ pwned: unknown; injected: number; text: string }>(
      page,
      `({
        pwned: window.pwned,
        injected: document.querySelectorAll("#app script, #app img, #revoke-dialog img").length,
        text: document.body.innerText,
      })`,
    );
    assert.equal(found.pwned, undefined);
    assert.equal(found.injected, 0);
    assert.doesNotMatch(found.text, /[\u202A-\u202E\u2066-\u2069\u200B\u0085]/);
    assert.ok(found.text.includes(HOSTILE_SHOWN));
    await page.click("#revoke-cancel");
    await screenshot(page, "console-hostile.png");
  },
});

Deno.test({
  name: "console in Chromium: a cross-site form post is rejected and revokes nothing",
  ...browserTest,
  async fn() {
    await using backend = await startRefBackend();
    const { id } = await enrollDirectly(backend, "sensor-target", 1);
    await using browser = await launchBrowser();
    const page = await openConsole(browser, backend);
    await waitForState(page, id, "online");
    // Two attacker pages: another port of the same host (same site, so even the SameSite=Strict
    // cookie goes along) and another loopback address (another site).
    const attack = `<!doctype html><form method="post" enctype="text/plain"
      action="${backend.url}/console/api/sensors/${id}/revoke"><input name='{"x":"' value='"}'>
      <button>win a prize</button></form>`;
    for (const hostname of ["127.0.0.1", "127.0.0.2"]) {
      await using attacker = Deno.serve(
        { hostname, port: 0, onListen: () => {} },
        () => new Response(attack, { headers: { "Content-Type": "text/html" } }),
      );
      const evil = await browser.browser.newPage();
      await evil.goto(`http://${hostname}:${attacker.addr.port}/`);
      const [response] = await Promise.all([evil.waitForNavigation(), evil.click("button")]);
      assert.equal(response?.status(), 403, `from ${hostname}`);
      assert.match(await evil.content(), /cross-(site|origin) request refused/);
      await evil.close();
    }
    assert.equal((await backend.fleet())[0].revokedAt, null);
    await page.reload();
    await waitForState(page, id, "online");
  },
});

Deno.test({
  name: "console in Chromium: usable at phone width (no sideways scrolling, labelled cells)",
  ...browserTest,
  async fn() {
    await using backend = await startRefBackend(30);
    const { id } = await enrollDirectly(backend, "sensor-phone-01.example.internal", 8, "rack-7");
    await using browser = await launchBrowser();
    const page = await openConsole(browser, backend, 390);
    await waitForState(page, id, "online");
    const layout = await inPage<{ scroll: number; width: number; unlabelled: number }>(
      page,
      `({
        scroll: document.documentElement.scrollWidth,
        width: document.documentElement.clientWidth,
        unlabelled: [...document.querySelectorAll("input, select, textarea")]
          .filter((field) => !document.querySelector('label[for="' + field.id + '"]')).length,
      })`,
    );
    assert.ok(layout.scroll <= layout.width, `${layout.scroll} > ${layout.width}`);
    assert.equal(layout.unlabelled, 0);
    await screenshot(page, "console-phone.png");
  },
});
