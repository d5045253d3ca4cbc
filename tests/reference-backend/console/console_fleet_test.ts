// The console with a real fleet (issue 23): 5,000 sensors enrolled through the API, in a real
// Chromium. The figures the issue asks for are measured here and printed ("figure: ..."): the first
// page's render, a search for one hostname, a sort by last beat, the rows in the DOM. Then
// keyboard-only use, the phone width, and the backend stopped and restarted under the open page:
// no row says online while it is down, actions are disabled, and the page comes back by itself
// with its session. CONSOLE_SCREENSHOTS=docs writes docs/console-fleet.png, console-phone.png and
// console-stale.png.
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { launchBackend } from "../../../reference-backend/launch.ts";
import { launchBrowser } from "../../support/browser.ts";
import { browserTest, inPage, openConsole, screenshot } from "../../support/console.ts";
import { beatFleet, enrollFleet, FLEET_VERSIONS } from "../../support/fleet.ts";
import { startRefBackend } from "../../support/refbackend.ts";

const browser = browserTest("console_fleet_test.ts");

const FLEET = 5000;
const PAGE_ROWS = 50; // the console's default page
const FIRST_RENDER_MS = 1000;
const SEARCH_MS = 300;
// The page polls every half interval, at most every 5 s: with the default 30 s interval, 5 s.
const POLL_MS = 5000;

/** The ids of the rows on the page, in order. */
const rowIds = (page: Page) =>
  page.$$eval("#fleet-rows tr", (rows) => rows.map((tr) => tr.getAttribute("data-sensor-id")));

/** The last beats of the rows on the page, in order (ms). */
const lastBeats = (page: Page) =>
  page.$$eval(
    "#fleet-rows time.last-beat",
    (all) => all.map((time) => Date.parse(time.getAttribute("datetime") ?? "")),
  );

/** The element that has the keyboard focus: its id, or its tag and the row it is in. */
const focused = (page: Page) =>
  inPage<string>(
    page,
    `(() => { const e = document.activeElement; const tr = e.closest("tr[data-sensor-id]");
      return e.id || (tr ? e.tagName.toLowerCase() + "@" + tr.dataset.sensorId : e.tagName); })()`,
  );

Deno.test({
  name:
    "console with 5,000 sensors: first page <= 1 s, a search shows one host <= 300 ms after typing, sorting by last beat reorders, one page in the DOM, keyboard only, phone width, backend restarted under the page",
  ...browser,
  async fn(t) {
    await using backend = await startRefBackend(30);
    const started = performance.now();
    const sensors = await enrollFleet(backend, FLEET);
    // A tenth of the fleet beats after enrolling, the newest enrolled first: the order of the last
    // beats is then not the order of enrollment.
    await beatFleet(backend, sensors.slice(0, FLEET / 10).reverse());
    console.log(
      `figure: ${FLEET} sensors enrolled through the API (and ${FLEET / 10} beats) in ${
        Math.round(performance.now() - started)
      } ms`,
    );
    await using chromium = await launchBrowser();
    const page = await openConsole(chromium, backend);

    await t.step("the first page renders within 1 s, and the DOM holds one page", async () => {
      await page.reload();
      await page.waitForFunction(
        `document.querySelectorAll("#fleet-rows tr").length === ${PAGE_ROWS}`,
      );
      const ms = await inPage<number>(
        page,
        `performance.getEntriesByName("fleet-first-render")[0].startTime`,
      );
      const rows = await inPage<number>(
        page,
        `document.querySelectorAll("tr[data-sensor-id]").length`,
      );
      console.log(
        `figure: first page of ${FLEET} sensors rendered ${Math.round(ms)} ms after ` +
          `navigation; ${rows} rows in the DOM`,
      );
      assert.ok(ms <= FIRST_RENDER_MS, `first render took ${ms} ms`);
      assert.equal(rows, PAGE_ROWS);
      assert.match(
        await page.$eval("#page-where", (p) => p.textContent ?? ""),
        /^1–50 of 5,000 sensors$/,
      );
      const chips = await page.$$eval(
        ".chip:not([hidden])",
        (all) => all.map((c) => c.textContent),
      );
      assert.deepEqual(chips.slice(0, 2), ["All 5,000", "Online 5,000"]);
      // Most recently seen first: the sensors that beat after enrolling lead.
      const beats = await lastBeats(page);
      assert.deepEqual(beats, [...beats].sort((a, b) => b - a));
      const beaten = new Set(sensors.slice(0, FLEET / 10).map((sensor) => sensor.id));
      assert.ok((await rowIds(page)).every((id) => beaten.has(id!)));
      await screenshot(page, "console-fleet.png", false);
    });

    await t.step(
      "a search for one hostname shows it alone within 300 ms of the last key",
      async () => {
        const wanted = sensors[4321];
        await inPage(
          page,
          `document.querySelector("#fleet-search").addEventListener("keydown",
          () => window.lastKeyAt = performance.now())`,
        );
        await page.type("#fleet-search", wanted.hostname);
        const ms = await inPage<number>(
          page,
          `new Promise((resolve) => {
          const check = () => {
            const rows = document.querySelectorAll("#fleet-rows tr");
            if (rows.length === 1 && rows[0].dataset.sensorId === "${wanted.id}") {
              resolve(performance.now() - window.lastKeyAt);
            } else requestAnimationFrame(check);
          };
          check();
        })`,
        );
        console.log(
          `figure: search for one of ${FLEET} hostnames: alone on the page ${
            Math.round(ms)
          } ms after the last key`,
        );
        assert.ok(ms <= SEARCH_MS, `the search took ${ms} ms`);
        assert.match(
          await page.$eval("#page-where", (p) => p.textContent ?? ""),
          /^1–1 of 1 sensor$/,
        );
        // By label and by IP too; then the whole fleet again.
        await page.$eval(
          "#fleet-search",
          (input) => (input as unknown as { value: string }).value = "",
        );
        await page.type("#fleet-search", wanted.sensorIp);
        await page.waitForFunction(
          `document.querySelector("#fleet-rows tr")?.dataset.sensorId === "${wanted.id}"`,
        );
        await page.click("#fleet-search", { count: 3 });
        await page.keyboard.press("Backspace");
        await page.waitForFunction(
          `document.querySelectorAll("#fleet-rows tr").length === ${PAGE_ROWS}`,
        );
      },
    );

    await t.step("sorting by last beat reorders the page; aria-sort says how", async () => {
      const before = await rowIds(page);
      await page.click('th[data-sort="lastSeenAt"] button');
      await page.waitForSelector('th[data-sort="lastSeenAt"][aria-sort="ascending"]');
      await page.waitForFunction(
        `document.querySelector("#fleet-rows tr")?.dataset.sensorId !== "${before[0]}"`,
      );
      const beats = await lastBeats(page);
      assert.deepEqual(beats, [...beats].sort((a, b) => a - b), "oldest beat first");
      const after = await rowIds(page);
      assert.equal(after.filter((id) => before.includes(id)).length, 0, "another page of sensors");
      console.log(
        `figure: sort by last beat: the page reordered (first row ${before[0]} -> ${
          after[0]
        }), ascending`,
      );
      assert.equal(
        await page.$$eval("th[aria-sort]", (all) => all.length),
        1,
        "one column says how it is sorted",
      );
      // By hostname, ascending: sensor-00000 leads; then back to the newest activity first.
      await page.click('th[data-sort="hostname"] button');
      await page.waitForFunction(
        `document.querySelector("#fleet-rows tr")?.dataset.sensorId === "${sensors[0].id}"`,
      );
      await page.click('th[data-sort="lastSeenAt"] button');
      await page.waitForSelector('th[data-sort="lastSeenAt"][aria-sort="descending"]');
    });

    await t.step(
      "filters by version and pages through the result, one page in the DOM",
      async () => {
        await page.select("#fleet-version", FLEET_VERSIONS[1]);
        const perVersion = sensors.filter((s) => s.agentVersion === FLEET_VERSIONS[1]).length;
        await page.waitForFunction(
          `document.querySelector("#page-where").textContent.endsWith("of ${
            perVersion.toLocaleString("en")
          } sensors")`,
        );
        const first = await rowIds(page);
        await page.click("#page-next");
        await page.waitForFunction(
          `document.querySelector("#page-where").textContent.startsWith("51–100")`,
        );
        const second = await rowIds(page);
        assert.equal(second.length, PAGE_ROWS);
        assert.equal(second.filter((id) => first.includes(id)).length, 0);
        const ids = new Set(
          sensors.filter((s) => s.agentVersion === FLEET_VERSIONS[1]).map((s) => s.id),
        );
        assert.ok([...first, ...second].every((id) => ids.has(id!)));
        assert.equal(
          await inPage(page, `document.querySelectorAll("tr[data-sensor-id]").length`),
          50,
        );
        await page.click("#page-prev");
        await page.waitForFunction(
          `document.querySelector("#page-where").textContent.startsWith("1–50")`,
        );
        await page.select("#fleet-version", "");
      },
    );

    await t.step(
      "keyboard only: skip link, search, one Tab stop for the table, open and Escape",
      async () => {
        await page.reload();
        await page.waitForFunction(`document.querySelectorAll("#fleet-rows tr").length === 50`);
        await page.keyboard.press("Tab");
        assert.equal(await inPage(page, `document.activeElement.className`), "skip");
        await page.keyboard.press("Enter");
        assert.equal(await focused(page), "content");
        const tabTo = async (target: (at: string) => boolean, most: number) => {
          for (let n = 1; n <= most; n++) {
            await page.keyboard.press("Tab");
            if (target(await focused(page))) return n;
          }
          throw new Error(`not reached within ${most} Tab presses (at ${await focused(page)})`);
        };
        await tabTo((at) => at === "fleet-search", 10);
        await page.keyboard.type(sensors[7].hostname.slice(0, 13)); // sensor-00007.: one host
        await page.waitForFunction(`document.querySelectorAll("#fleet-rows tr").length === 1`);
        await page.keyboard.down("Shift");
        await page.keyboard.press("Home");
        await page.keyboard.up("Shift");
        await page.keyboard.press("Backspace"); // the whole fleet again
        await page.waitForFunction(`document.querySelectorAll("#fleet-rows tr").length === 50`);
        // From the search into the table: the table is one stop however many rows it holds.
        const toTable = await tabTo((at) => at.startsWith("button@"), 25);
        const toPager = await tabTo((at) => at === "page-next", 5);
        console.log(
          `figure: keyboard: ${toTable} Tab presses from the search to the table, ${toPager} ` +
            `through a table of ${PAGE_ROWS} rows to the next page`,
        );
        assert.ok(toPager <= 3, `${toPager} Tab stops in the table`);
        await page.keyboard.down("Shift");
        await page.keyboard.press("Tab");
        await page.keyboard.up("Shift");
        assert.match(await focused(page), /^button@/, "Shift+Tab: back to the row it left");
        await page.keyboard.press("Home");
        assert.equal(await focused(page), `button@${(await rowIds(page))[0]}`);
        await page.keyboard.press("ArrowDown");
        await page.keyboard.press("ArrowDown");
        const row2 = (await rowIds(page))[2];
        assert.equal(await focused(page), `button@${row2}`);
        await page.keyboard.press("Enter");
        await page.waitForSelector("#detail", { visible: true });
        assert.equal(await focused(page), "detail-title");
        await page.waitForFunction(
          `document.querySelector("#detail-title").textContent.includes("rack-")`,
        );
        await page.keyboard.press("Escape");
        await page.waitForSelector("#detail", { hidden: true });
        assert.equal(await focused(page), `button@${row2}`, "the focus is back where it was");
        // Space ticks the row's box (Shift+Tab: the box before the name).
        await page.keyboard.down("Shift");
        await page.keyboard.press("Tab");
        await page.keyboard.up("Shift");
        assert.equal(await focused(page), `input@${row2}`);
        await page.keyboard.press("Space");
        assert.equal(await page.$eval("#bulk-count", (s) => s.textContent), "1 selected");
        await page.keyboard.press("Space");
      },
    );

    await t.step(
      "at phone width: no sideways scrolling, every cell labelled, the panel over the list",
      async () => {
        await page.setViewport({ width: 390, height: 844 });
        await page.waitForFunction(`document.querySelectorAll("#fleet-rows tr").length === 50`);
        const layout = await inPage<{ scroll: number; width: number; unlabelled: number }>(
          page,
          `({
          scroll: document.documentElement.scrollWidth,
          width: document.documentElement.clientWidth,
          unlabelled: [...document.querySelectorAll("input, select, textarea")]
            .filter((field) => !document.querySelector('label[for="' + field.id + '"]') &&
              !field.getAttribute("aria-label")).length,
        })`,
        );
        assert.ok(layout.scroll <= layout.width, `${layout.scroll} > ${layout.width}`);
        assert.equal(layout.unlabelled, 0);
        await screenshot(page, "console-phone.png", false);
        await page.click("#fleet-rows tr:first-child button.open");
        await page.waitForSelector("#detail svg.rate-chart", { visible: true });
        const panel = await page.$eval("#detail", (aside) => aside.getBoundingClientRect().width);
        assert.equal(Math.round(panel), 390, "the panel covers the list");
        await page.keyboard.press("Escape");
        await page.setViewport({ width: 1280, height: 900 });
      },
    );

    await t.step(
      "the backend stopped under the page: nothing says online, actions are disabled; restarted: it recovers with its session",
      async () => {
        await inPage(page, `window.sameDocument = true`);
        await page.waitForFunction(`document.querySelector("#fleet-rows tr[data-state=online]")`);
        const port = new URL(backend.url).port;
        const stoppedAt = performance.now();
        assert.equal((await backend.stop()).code, 0);
        await page.waitForFunction(
          `!document.querySelector("#fleet-rows tr[data-state=online]") &&
          document.querySelectorAll("#fleet-rows tr[data-state=unknown]").length === 50`,
          { timeout: 2 * POLL_MS },
        );
        const staleMs = performance.now() - stoppedAt;
        const page_ = await inPage<
          { banner: string; chips: string[]; enabled: string[]; asOf: string }
        >(
          page,
          `({
          banner: document.querySelector("#stale").textContent,
          chips: [...document.querySelectorAll(".chip:not([hidden])")].map((c) => c.textContent),
          enabled: [...document.querySelectorAll("[data-needs-backend]")]
            .filter((b) => !b.disabled).map((b) => b.id || b.textContent),
          asOf: document.querySelector("#fleet-rows tr .as-of").textContent,
        })`,
        );
        console.log(
          `figure: backend stopped: no row online and actions disabled after ${
            Math.round(staleMs)
          } ms (poll every ${POLL_MS} ms)`,
        );
        assert.match(page_.banner, /has not answered since .*as of/);
        assert.ok(page_.chips.every((chip) => / \(as of .+\)$/.test(chip)), page_.chips.join());
        assert.deepEqual(page_.enabled, []);
        assert.match(page_.asOf, /^online as of /);
        await screenshot(page, "console-stale.png", false);

        await using restarted = await launchBackend({
          dataDir: backend.dataDir,
          adminToken: backend.adminToken,
          env: { PORT: port },
        });
        const restartedAt = performance.now();
        await page.waitForFunction(
          `document.querySelector("#stale").hidden &&
          document.querySelectorAll("#fleet-rows tr[data-state=online]").length === 50`,
          { timeout: 2 * POLL_MS },
        );
        console.log(
          `figure: backend restarted: the page live again after ${
            Math.round(performance.now() - restartedAt)
          } ms, without a reload, still logged in`,
        );
        assert.equal(await inPage(page, "window.sameDocument"), true, "no reload");
        assert.equal(await inPage(page, `document.querySelector("#login").hidden`), true);
        assert.equal(await inPage(page, `document.querySelector("#bulk-revoke").disabled`), true);
        assert.equal(await inPage(page, `document.querySelector("#logout").disabled`), false);
        await restarted.stop();
      },
    );
  },
});
