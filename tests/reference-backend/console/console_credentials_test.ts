// Issue 22's credential in the console (issue 23): a token's age, a rotation asked for or under
// way, and a duplicate token (two hosts beating with one token), shown in the list and the panel,
// the duplicate loudly, and filtered by `duplicate=true`. Until the backend keeps these fields
// itself (issue 22), the test writes them into the sensor records in the store
// (tests/support/kvrecord.ts) and the API shows them; a record without them shows none, and the
// console offers no rotation. "Rotate now" and "Rotate every token" reach the admin API's rotation
// routes; that test is skipped while this backend has none. CONSOLE_SCREENSHOTS=docs writes
// docs/console-duplicate.png.
import assert from "node:assert/strict";
import { join } from "node:path";
import { launchBackend } from "../../../reference-backend/launch.ts";
import { PROJECT } from "../../support/agent.ts";
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
import { updateSensorRecord } from "../../support/kvrecord.ts";
import { startRefBackend } from "../../support/refbackend.ts";

const browser = browserTest("console_credentials_test.ts");
const DAY = 86_400_000;

/** Whether this backend routes token rotation (issue 22): the console's buttons need it. */
const ROTATION = (await Deno.readTextFile(join(PROJECT, "reference-backend/api/handler.ts")))
  .includes("/api/sensors/rotate");
if (!ROTATION) {
  console.log(
    "skipped: console_credentials_test.ts (rotation through the console): this backend has no " +
      "POST /api/sensors/{id}/rotate or /api/sensors/rotate yet (issue 22)",
  );
}

Deno.test({
  name:
    "console in Chromium: token age, rotation asked and a duplicate token in the list and the panel; the duplicate filter; none of it for a record without them",
  ...browser,
  async fn() {
    await using backend = await startRefBackend(30);
    const plain = await enrollDirectly(backend, "sensor-plain.example", 1, "rack-1");
    const aged = await enrollDirectly(backend, "sensor-aged.example", 1, "rack-2");
    const copied = await enrollDirectly(backend, "sensor-copied.example", 1, "rack-3");
    // Before: no record has the fields, so neither the API nor the console shows any.
    const before = await backend.call("GET", `/api/sensors/${plain.id}`);
    assert.equal(before.body.data.tokenIssuedAt, undefined);
    {
      await using chromium = await launchBrowser();
      const page = await openConsole(chromium, backend);
      await waitForState(page, plain.id, "online");
      assert.equal(
        await inPage(
          page,
          `document.querySelector("#fleet-table").classList.contains("no-credentials")`,
        ),
        true,
      );
      assert.equal(await inPage(page, `document.querySelector("#rotate-fleet").hidden`), true);
    }
    assert.equal((await backend.stop()).code, 0);
    const now = Date.now();
    for (const sensor of [plain, aged, copied]) {
      await updateSensorRecord(backend.dataDir, sensor.id, {
        tokenIssuedAt: now - 12 * DAY,
        lastRotatedAt: null,
        rotationRequested: false,
        rotationPending: false,
        duplicate: null,
      });
    }
    await updateSensorRecord(backend.dataDir, aged.id, {
      tokenIssuedAt: now - 95 * DAY,
      rotationRequested: true,
    });
    await updateSensorRecord(backend.dataDir, copied.id, {
      tokenIssuedAt: now - 40 * DAY,
      lastRotatedAt: now - 40 * DAY,
      duplicate: {
        bindings: 2,
        firstSeenAt: now - 3_600_000,
        seen: [
          {
            binding: "a".repeat(64),
            hostname: "sensor-copied.example",
            sensorIp: "10.0.0.3",
            lastSeenAt: now - 60_000,
          },
          {
            binding: "b".repeat(64),
            hostname: "vm-clone-7",
            sensorIp: "10.9.9.9",
            lastSeenAt: now - 5_000,
          },
        ],
      },
    });
    await using again = await launchBackend({
      dataDir: backend.dataDir,
      adminToken: backend.adminToken,
      heartbeatIntervalSeconds: 30,
    });
    const api = await again.admin("GET", "/api/sensors?duplicate=true");
    assert.equal(api.total, 1);
    assert.equal(api.counts.duplicate, 1);
    assert.equal(api.sensors[0].id, copied.id);
    assert.equal(api.sensors[0].duplicate.seen[0].binding, "b".repeat(12), "newest first, 12 hex");
    assert.equal(api.sensors[0].tokenAgeSeconds >= 40 * 86_400, true);

    await using chromium = await launchBrowser();
    const page = await openConsole(
      chromium,
      { url: again.url, adminToken: backend.adminToken },
      1600,
      1000,
    );
    await page.waitForSelector(`#fleet-rows tr[data-sensor-id="${copied.id}"].duplicate`);
    const cell = (id: string, label: string) =>
      page.$eval(`tr[data-sensor-id="${id}"] [data-label="${label}"]`, (td) => td.textContent);
    assert.equal(await cell(plain.id, "Token age"), "12 d");
    assert.equal(await cell(aged.id, "Token age"), "95 d rotation asked");
    assert.equal(await cell(copied.id, "State"), "onlineduplicate token");
    assert.equal(await inPage(page, `document.querySelector("#rotate-fleet").hidden`), false);
    // The banner says it at once, and shows them.
    assert.match(
      await page.$eval("#duplicates-text", (p) => p.textContent ?? ""),
      /^1 sensor has its token used by more than one host/,
    );
    assert.equal(await page.$eval(".chip-duplicate", (c) => c.textContent), "Duplicate token 1");
    await page.click("#duplicates-show");
    await page.waitForFunction(`document.querySelectorAll("#fleet-rows tr").length === 1`);
    assert.equal(
      await page.$eval(".chip-duplicate", (c) => c.getAttribute("aria-pressed")),
      "true",
    );
    await page.click(`tr[data-sensor-id="${copied.id}"] button.open`);
    await page.waitForSelector("#detail .duplicate-box");
    const box = await page.$eval("#detail .duplicate-box", (div) => div.textContent ?? "");
    assert.match(box, /Duplicate token: 2 hosts beat with it/);
    assert.match(box, /bbbbbbbbbbbbvm-clone-710\.9\.9\.9/);
    assert.equal(await inPage(page, `document.querySelector("#detail-rotate").hidden`), false);
    const facts = await page.$eval("#detail .facts", (dl) => dl.textContent ?? "");
    assert.match(facts, /Token age40 d/);
    await screenshot(page, "console-duplicate.png", false);
  },
});

Deno.test({
  name:
    "console in Chromium: Rotate now and Rotate every token, each confirmed, reach the admin API",
  ...browser,
  ignore: browser.ignore || !ROTATION,
  async fn() {
    await using backend = await startRefBackend(30);
    const sensor = await enrollDirectly(backend, "sensor-rotate.example", 1, "rack-r");
    await enrollDirectly(backend, "sensor-other.example", 1, "rack-o");
    await using chromium = await launchBrowser();
    const page = await openConsole(chromium, backend);
    await waitForState(page, sensor.id, "online");
    await page.click(`tr[data-sensor-id="${sensor.id}"] button.open`);
    await page.waitForSelector("#detail-rotate:not([hidden])");
    await page.click("#detail-rotate");
    await confirmDialog(page, /^Rotate this sensor's token\?$/);
    await page.waitForFunction(
      `document.querySelector("#status").textContent.startsWith("Rotation asked")`,
    );
    const shown = await backend.call("GET", `/api/sensors/${sensor.id}`);
    assert.equal(shown.body.data.rotationRequested, true);
    await page.keyboard.press("Escape");
    await page.click("#rotate-fleet");
    await confirmDialog(page, /^Rotate the tokens of 2 sensors\?$/);
    await page.waitForFunction(
      `document.querySelector("#status").textContent === "Rotation asked of 2 sensors."`,
    );
  },
});
