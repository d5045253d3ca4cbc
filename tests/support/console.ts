// tests/support/console.ts: the operator console (reference-backend/console/) as its tests drive
// it: logging in over plain HTTP, sensors enrolled over the API that beat on cue, and a page in a
// real Chromium (browser.ts) logged in through the form. CONSOLE_SCREENSHOTS=docs makes
// `screenshot` write docs/console*.png from the runs.
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "puppeteer-core";
import { PROJECT } from "./agent.ts";
import { browserUnavailable, type RunningBrowser } from "./browser.ts";
import { heartbeatBody, type RefBackend, seedPayload } from "./refbackend.ts";

const noBrowser = await browserUnavailable();

/**
 * The options of a browser test: skipped (and said so once per file) without a browser.
 * Puppeteer keeps its pipe to the browser and a few timers open between calls; the browser and
 * its profile are closed and removed by `await using` instead of by the sanitizers.
 */
export function browserTest(file: string) {
  if (noBrowser !== undefined) console.log(`skipped: ${file} (browser tests): ${noBrowser}`);
  return { ignore: noBrowser !== undefined, sanitizeOps: false, sanitizeResources: false };
}

/** Logs in with `secret` over fetch; the cookie, the CSRF token and the reply. */
export async function consoleLogin(backend: { url: string }, secret: string) {
  const response = await fetch(`${backend.url}/console/api/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ secret }),
  });
  const body = await response.json();
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  return { status: response.status, cookie, csrfToken: body.data?.csrfToken as string, response };
}

/** A sensor enrolled over the API (no agent): its id, and a way to send its next beats. */
export interface DirectSensor {
  readonly id: string;
  readonly sensorToken: string;
  beat(count: number, pauseMs?: number): Promise<void>;
}

/** Enrolls a sensor over the API and lets it beat `beats` times; `await sensor.beat(n)` for more. */
export async function enrollDirectly(
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
    sensorToken: sensorToken as string,
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
export async function openConsole(
  browser: RunningBrowser,
  backend: { url: string; adminToken: string },
  width = 1280,
  height = 900,
): Promise<Page> {
  const page = await browser.browser.newPage();
  await page.setViewport({ width, height });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${backend.url}/console`);
  await page.waitForSelector("#secret", { visible: true });
  await page.type("#secret", backend.adminToken);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#view-fleet", { visible: true });
  assert.deepEqual(errors, []);
  // The token is in no field, attribute or text of the page once the login is sent.
  assert.ok(!(await page.content()).includes(backend.adminToken), "admin token in the page");
  assert.ok(!page.url().includes(backend.adminToken), "admin token in the URL");
  return page;
}

/** Waits until the fleet shows the sensor `id` in `state`. */
export async function waitForState(page: Page, id: string, state: string, timeout = 15_000) {
  await page.waitForSelector(`#fleet-rows tr[data-sensor-id="${id}"][data-state="${state}"]`, {
    timeout,
  });
}

/**
 * Evaluates `expression` in the page. A string, not a function: the tests are type-checked with
 * Deno's libraries, which have no DOM (`document`, `navigator.clipboard`).
 */
export function inPage<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}

/** Writes docs/<name> (or wherever CONSOLE_SCREENSHOTS says) when CONSOLE_SCREENSHOTS is set. */
export async function screenshot(page: Page, name: string, fullPage = true) {
  const where = Deno.env.get("CONSOLE_SCREENSHOTS");
  if (where === undefined) return;
  await page.evaluate("window.scrollTo(0, 0)");
  await page.screenshot({ path: join(PROJECT, where, name), fullPage });
}

/** Presses "confirm" in the confirmation dialog after checking its title. */
export async function confirmDialog(page: Page, title: RegExp) {
  await page.waitForSelector("#confirm-dialog[open]");
  const shown = await page.$eval("#confirm-title", (h) => h.textContent ?? "");
  assert.match(shown, title);
  await page.click("#confirm-ok");
  await page.waitForSelector("#confirm-dialog:not([open])");
}
