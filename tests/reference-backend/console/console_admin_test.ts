// The console's fleet actions in a real Chromium (issue 23), end to end: bulk revoke and bulk
// removal with one confirmation naming the count (online sensors are skipped by the removal), the
// removal of one sensor from its panel, an install token cancelled from its list (it then enrolls
// nothing), and the audit page showing who did each of these, from where. CONSOLE_SCREENSHOTS=docs
// writes docs/console-tokens.png and console-audit.png.
import assert from "node:assert/strict";
import { launchBrowser } from "../../support/browser.ts";
import {
  browserTest,
  confirmDialog,
  enrollDirectly,
  inPage,
  openConsole,
  screenshot,
  waitForState,
} from "../../support/console.ts";
import { seedPayload, startRefBackend } from "../../support/refbackend.ts";

const browser = browserTest("console_admin_test.ts");

/** The ids of the rows on the page. */
const rowIds = (page: import("puppeteer-core").Page) =>
  page.$$eval("#fleet-rows tr", (rows) => rows.map((tr) => tr.getAttribute("data-sensor-id")!));

Deno.test({
  name:
    "console in Chromium: bulk revoke and removal ask once, naming the count; removal skips online sensors; one sensor removed from its panel",
  ...browser,
  async fn() {
    await using backend = await startRefBackend(1);
    const sensors = [];
    for (let i = 0; i < 6; i++) {
      sensors.push(await enrollDirectly(backend, `sensor-bulk-${i}.example`, 1, `rack-${i}`));
    }
    // 0-2 keep beating (online) until revoked (their beats then get 401); 3-5 fall silent.
    let beating = true;
    const beats = (async () => {
      while (beating) {
        // A revoked one's beat gets 401, which its helper throws: expected, and ignored here.
        for (const sensor of sensors.slice(0, 3)) await sensor.beat(1, 0).catch(() => {});
        await new Promise((done) => setTimeout(done, 300));
      }
    })();
    try {
      await using chromium = await launchBrowser();
      const page = await openConsole(chromium, backend);
      for (const sensor of sensors.slice(3)) await waitForState(page, sensor.id, "silent", 20_000);
      // Tick 0 and 1, then revoke them: one dialog, naming two sensors.
      for (const sensor of sensors.slice(0, 2)) {
        await page.click(`tr[data-sensor-id="${sensor.id}"] td.select input`);
      }
      assert.equal(await page.$eval("#bulk-count", (s) => s.textContent), "2 selected");
      await page.click("#bulk-revoke");
      await page.waitForSelector("#confirm-dialog[open]");
      assert.match(
        await page.$eval("#confirm-what", (p) => p.textContent ?? ""),
        /rack-[01], rack-[01]\./,
      );
      await confirmDialog(page, /^Revoke 2 sensors\?$/);
      await page.waitForFunction(
        `document.querySelector("#status").textContent === "Revoked 2 sensors."`,
      );
      for (const sensor of sensors.slice(0, 2)) await waitForState(page, sensor.id, "revoked");
      assert.equal(await page.$eval("#bulk-count", (s) => s.textContent), "None selected");

      // Tick everything on the page and remove: the four revoked or silent go, online 2 stays.
      await page.click("#select-page");
      assert.equal(await page.$eval("#bulk-count", (s) => s.textContent), "6 selected");
      await page.click("#bulk-delete");
      await confirmDialog(page, /^Remove 6 sensors\?$/);
      await page.waitForFunction(
        `document.querySelector("#status").textContent.startsWith("Removed 5 sensors. 1 sensor not: the sensor is")`,
      );
      await page.waitForFunction(`document.querySelectorAll("#fleet-rows tr").length === 1`);
      assert.deepEqual(await rowIds(page), [sensors[2].id]);
      assert.equal((await backend.call("GET", `/api/sensors/${sensors[4].id}`)).status, 404);

      // The last one, revoked and removed from its panel, each asked first.
      beating = false;
      await beats;
      await page.click(`tr[data-sensor-id="${sensors[2].id}"] button.open`);
      await page.waitForSelector("#detail svg.rate-chart", { visible: true });
      await page.waitForSelector("#detail-delete:disabled");
      await page.click("#detail-revoke");
      await confirmDialog(page, /^Revoke this sensor\?$/);
      await page.waitForSelector("#detail-delete:not(:disabled)");
      await page.click("#detail-delete");
      await confirmDialog(page, /^Remove this sensor\?$/);
      await page.waitForSelector("#detail", { hidden: true });
      await page.waitForFunction(`document.querySelectorAll("#fleet-rows tr").length === 0`);
      assert.match(
        await page.$eval("#fleet-empty", (p) => p.textContent ?? ""),
        /No sensor has enrolled yet/,
      );
      assert.deepEqual((await backend.fleet()).length, 0);
    } finally {
      beating = false;
      await beats;
    }
  },
});

Deno.test({
  name:
    "console in Chromium: an install token cancelled from its list enrolls nothing; the audit page says who did what, from where",
  ...browser,
  async fn() {
    await using backend = await startRefBackend(30);
    await using chromium = await launchBrowser();
    const page = await openConsole(chromium, backend);
    await page.goto(`${backend.url}/console#tokens`);
    await page.waitForSelector("#view-tokens", { visible: true });
    // Two tokens minted in the console: one used by a sensor, one cancelled.
    const mint = async (label: string) => {
      await page.type("#mint-label", label);
      await page.click("#mint-form button[type=submit]");
      await page.waitForSelector("#install-token", { visible: true });
      const token = await page.$eval(
        "#install-token",
        (t) => (t as unknown as { value: string }).value,
      );
      await page.click("#minted-done");
      await page.waitForSelector("#minted-once", { hidden: true });
      return token;
    };
    const used = await mint("rack-used");
    const cancelled = await mint("rack-cancelled");
    assert.equal(
      (await backend.enroll({ ...seedPayload(used), hostname: "sensor-used" })).status,
      200,
    );
    await page.reload();
    await page.waitForFunction(`document.querySelectorAll("#tokens-rows tr").length === 2`);
    const rows = await page.$$eval(
      "#tokens-rows tr",
      (all) => all.map((tr) => [...tr.children].map((cell) => cell.textContent)),
    );
    assert.equal(rows[0][1], "rack-cancelled");
    assert.equal(rows[0][4], "unused");
    assert.equal(rows[1][1], "rack-used");
    assert.match(rows[1][4]!, /^used /);
    assert.equal(
      await inPage(
        page,
        `document.querySelectorAll("#tokens-rows button.cancel:not([hidden])").length`,
      ),
      1,
      "only the unused token can be cancelled",
    );
    await screenshot(page, "console-tokens.png", false);
    await page.click("#tokens-rows tr:first-child button.cancel");
    await confirmDialog(page, /^Cancel this install token\?$/);
    await page.waitForFunction(`document.querySelectorAll("#tokens-rows tr").length === 1`);
    assert.equal((await backend.enroll(seedPayload(cancelled))).status, 401, "cancelled");
    assert.ok(
      !(await page.content()).includes(used) && !(await page.content()).includes(cancelled),
    );

    // The revocation of the enrolled sensor, then the audit page.
    const [sensor] = await backend.fleet();
    await page.goto(`${backend.url}/console#fleet`);
    await page.click(`tr[data-sensor-id="${sensor.id}"] button.open`);
    // Until the panel has loaded the sensor, its buttons act on nothing (flaky under load).
    await page.waitForSelector("#detail svg.rate-chart", { visible: true });
    await page.click("#detail-revoke");
    await confirmDialog(page, /^Revoke this sensor\?$/);
    await waitForState(page, sensor.id, "revoked");
    await page.click('a[href="#audit"][data-view]');
    await page.waitForFunction(
      `document.querySelector("#audit-rows tr td[data-label=What]")?.textContent === "sensor.revoke"`,
    );
    const events = await page.$$eval(
      "#audit-rows tr",
      (all) => all.map((tr) => [...tr.children].slice(1).map((cell) => cell.textContent)),
    );
    const session = events[0][0]!;
    assert.match(session, /^console session [0-9a-f]{12}$/);
    assert.deepEqual(events.map(([who, from, what]) => [who, from, what]), [
      [session, "127.0.0.1", "sensor.revoke"],
      [session, "127.0.0.1", "install-token.cancel"],
      [session, "127.0.0.1", "install-token.mint"],
      [session, "127.0.0.1", "install-token.mint"],
      [session, "127.0.0.1", "login"],
    ]);
    assert.equal(events[0][3], `sensor ${sensor.id}`);
    assert.equal(events[0][4], "rack-used on sensor-used");
    await screenshot(page, "console-audit.png", false);
  },
});
