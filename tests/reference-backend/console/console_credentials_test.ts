// Issue 22's credential in the console (issue 23), against the backend's real routes: a token's
// age and its rotation in the list and the panel; a duplicate token made by real heartbeats that
// carry two different Sensor-Host-Binding values with one token, shown at once (banner, count,
// row, the panel's hosts) and resolved by rotating it; "Rotate now" and "Rotate every token", each
// confirmed, carried out by a real agent; every step in the audit trail. CONSOLE_SCREENSHOTS=docs
// writes docs/console-duplicate.png.
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { assertNoTokens, startAgent, usedTokens } from "../../support/agent.ts";
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
import { heartbeatBody, startRefBackend } from "../../support/refbackend.ts";
import { beatFrom, bindingOf, rotateFrom } from "../../support/sensor_calls.ts";
import { sensorHost } from "../../support/sensorhost.ts";

const browser = browserTest("console_credentials_test.ts");

/** The text of the cell labelled `label` in sensor `id`'s row. */
function cell(page: Page, id: string, label: string): Promise<string | null> {
  return page.$eval(`tr[data-sensor-id="${id}"] [data-label="${label}"]`, (td) => td.textContent);
}

/** The panel's fact named `term`, once it reads `pattern`. */
async function waitForFact(page: Page, term: string, pattern: RegExp, timeout = 20_000) {
  const read = `[...document.querySelectorAll("#detail .facts dt")]
    .find((dt) => dt.textContent === ${JSON.stringify(term)})?.nextElementSibling?.textContent`;
  await page.waitForFunction(`${pattern}.test(${read} ?? "")`, { timeout });
  return await inPage<string>(page, read);
}

/** The audit page's rows, newest first, as [who, from, what, target, detail]. */
async function auditRows(page: Page): Promise<string[][]> {
  await page.click('a[href="#audit"][data-view]');
  await page.waitForSelector("#audit-rows tr");
  return await page.$$eval(
    "#audit-rows tr",
    (all) => all.map((tr) => [...tr.children].slice(1).map((cell) => cell.textContent ?? "")),
  );
}

Deno.test({
  name:
    "console in Chromium: two hosts beating with one token (two Sensor-Host-Binding values) are a duplicate shown at once; rotating it from the panel leaves the sensor to the first host and clears it",
  ...browser,
  async fn() {
    await using backend = await startRefBackend(30);
    const plain = await enrollDirectly(backend, "sensor-plain.example", 1, "rack-1");
    const copied = await enrollDirectly(backend, "sensor-copied.example", 0, "rack-3");
    const original = await bindingOf("rack-3, the original");
    const clone = await bindingOf("vm-clone-7");
    const beat = (token: string, binding: string, hostname: string, sensorIp: string) =>
      beatFrom(backend, token, binding, {
        ...heartbeatBody(),
        sensorLabel: "rack-3",
        hostname,
        sensorIp,
      });
    assert.equal(
      (await beat(copied.sensorToken, original, "sensor-copied", "10.0.0.3")).status,
      200,
    );
    const alone = await backend.call("GET", "/api/sensors?duplicate=true");
    assert.equal(alone.body.data.total, 0, "one host is no duplicate");
    // The VM cloned with its env file beats with the same token from another machine.
    assert.equal((await beat(copied.sensorToken, clone, "vm-clone-7", "10.9.9.9")).status, 200);
    const api = (await backend.call("GET", "/api/sensors?duplicate=true")).body.data;
    assert.equal(api.total, 1);
    assert.equal(api.counts.duplicate, 1);
    assert.equal(api.sensors[0].id, copied.id);
    assert.deepEqual(
      api.sensors[0].duplicate.seen.map((seen: Record<string, string>) => seen.binding),
      [clone.slice(0, 12), original.slice(0, 12)],
      "both hosts, the newest first, by 12 hex digits",
    );

    await using chromium = await launchBrowser();
    const page = await openConsole(chromium, backend, 1600, 1000);
    await page.waitForSelector(`#fleet-rows tr[data-sensor-id="${copied.id}"].duplicate`);
    assert.match((await cell(page, plain.id, "Token age"))!, /^\d+ s$/);
    assert.equal(await cell(page, copied.id, "State"), "onlineduplicate token");
    assert.equal(await cell(page, plain.id, "State"), "online");
    // The banner says it at once, and shows them.
    assert.match(
      await page.$eval("#duplicates-text", (p) => p.textContent ?? ""),
      /^1 sensor has its token used by more than one host .*Rotate the token/,
    );
    assert.equal(await page.$eval(".chip-duplicate", (c) => c.textContent), "Duplicate token 1");
    await page.click("#duplicates-show");
    await page.waitForFunction(`document.querySelectorAll("#fleet-rows tr").length === 1`);
    await page.click(`tr[data-sensor-id="${copied.id}"] button.open`);
    await page.waitForSelector("#detail .duplicate-box");
    const box = await page.$eval("#detail .duplicate-box", (div) => div.textContent ?? "");
    assert.match(box, /Duplicate token: 2 hosts beat with it/);
    assert.ok(box.includes(`${clone.slice(0, 12)}vm-clone-710.9.9.9`), box);
    assert.ok(box.includes(`${original.slice(0, 12)}sensor-copied10.0.0.3`), box);
    assert.match(await waitForFact(page, "Rotation", /./), /^none asked$/);
    assert.match(await waitForFact(page, "Last rotation", /./), /^never$/);
    await screenshot(page, "console-duplicate.png", false);

    // Rotate now, from the panel, confirmed: the next beat of whichever host comes first is asked.
    await page.click("#detail-rotate");
    await confirmDialog(page, /^Rotate this sensor's token\?$/);
    await page.waitForFunction(
      `document.querySelector("#status").textContent.startsWith("Rotation asked")`,
    );
    assert.equal(await inPage(page, `document.querySelector("#detail-rotate").disabled`), true);
    await page.waitForFunction(
      `document.querySelector('tr[data-sensor-id="${copied.id}"] [data-label="Token age"]')
        ?.textContent.endsWith("rotation asked")`,
    );
    const asked = await beat(copied.sensorToken, original, "sensor-copied", "10.0.0.3");
    assert.equal(asked.body.data.rotateSensorToken, true);
    const fresh = (await rotateFrom(backend, copied.sensorToken, original)).body.data.sensorToken;
    assert.match(await waitForFact(page, "Rotation", /new token was issued/), /old one works/);
    // Its first use completes the rotation: the sensor is the original's, the clone is shut out.
    const used = await beat(fresh, original, "sensor-copied", "10.0.0.3");
    assert.deepEqual(used.body.data, { heartbeatIntervalSeconds: 30 });
    const refused = await beat(copied.sensorToken, clone, "vm-clone-7", "10.9.9.9");
    assert.equal(refused.status, 401);
    await waitForFact(page, "Last rotation", /\d/);
    await page.waitForSelector("#detail .duplicate-box", { hidden: true });
    await page.waitForSelector("#duplicates", { hidden: true });
    assert.equal(await waitForFact(page, "Rotation", /./), "none asked");
    assert.equal(
      (await backend.call("GET", "/api/sensors")).body.data.counts.duplicate,
      0,
    );
    const audit = await auditRows(page);
    const rotation = audit.filter(([, , what]) => what.startsWith("sensor.rotation"));
    assert.deepEqual(rotation.map(([who, from, what]) => [who.split(" ")[0], from, what]), [
      ["sensor", "127.0.0.1", "sensor.rotation.complete"],
      ["sensor", "127.0.0.1", "sensor.rotation.issue"],
      ["console", "127.0.0.1", "sensor.rotation.request"],
    ]);
    assert.ok(rotation.every(([, , , target]) => target === `sensor ${copied.id}`));
    assert.match(rotation[0][4], /^rack-3 on sensor-copied: token sha256:[0-9a-f]{12} in use/);
  },
});

Deno.test({
  name:
    "console in Chromium: Rotate now and Rotate every token, each confirmed, are carried out by a real agent at its next beats; the audit trail says who asked and that the sensor rotated",
  ...browser,
  async fn() {
    await using backend = await startRefBackend(1);
    await using host = await sensorHost();
    const installToken = await backend.mint({ label: "rack-9" });
    await Deno.writeTextFile(
      host.config,
      `SENSOR_ID=rack-9\nINSTALL_TOKEN=${installToken}\nBACKEND_URL=${backend.url}\n`,
      { mode: 0o600 },
    );
    /** The SENSOR_TOKEN the agent saved, once there is one other than `not`. */
    const savedToken = async (not?: string) => {
      for (const deadline = performance.now() + 10_000; performance.now() < deadline;) {
        const token = /^SENSOR_TOKEN=(.+)$/m.exec(await Deno.readTextFile(host.config))?.[1];
        if (token !== undefined && token !== not) {
          usedTokens.add(token);
          return token;
        }
        await new Promise((done) => setTimeout(done, 50));
      }
      throw new Error("the agent saved no new SENSOR_TOKEN within 10 s");
    };
    const agent = startAgent(["run", ...host.args], host.options);
    try {
      const first = await savedToken();
      // Another sensor, not beating: the fleet's rotation counts it too.
      await enrollDirectly(backend, "sensor-idle.example", 0, "rack-idle");
      const [sensor] = (await backend.fleet()).filter((s) => s.label === "rack-9");
      await using chromium = await launchBrowser();
      const page = await openConsole(chromium, backend);
      await waitForState(page, sensor.id, "online");
      await page.click(`tr[data-sensor-id="${sensor.id}"] button.open`);
      assert.equal(await waitForFact(page, "Last rotation", /./), "never");
      await page.click("#detail-rotate");
      await confirmDialog(page, /^Rotate this sensor's token\?$/);
      // The agent rotates at its next beat (1 s), and uses the new token from then on.
      const rotatedAt = await waitForFact(page, "Last rotation", /\d/);
      const second = await savedToken(first);
      assert.notEqual(second, first);
      assert.equal((await backend.beat(first)).status, 401, "the old token is refused");
      assert.equal(await waitForFact(page, "Rotation", /./), "none asked");
      await page.keyboard.press("Escape");

      // Every token: one confirmation naming the count of sensors not revoked.
      await page.click("#rotate-fleet");
      await confirmDialog(page, /^Rotate the tokens of 2 sensors\?$/);
      await page.waitForFunction(
        `document.querySelector("#status").textContent === "Rotation asked of 2 sensors."`,
      );
      await page.click(`tr[data-sensor-id="${sensor.id}"] button.open`);
      const before = rotatedAt.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      await waitForFact(page, "Last rotation", new RegExp(`^(?!${before}$)\\d`));
      const third = await savedToken(second);
      assert.notEqual(third, second);

      const audit = await auditRows(page);
      const rotations = audit.filter(([, , what]) => what.includes("rotation"));
      assert.deepEqual(rotations.map(([who, , what]) => [who.split(" ")[0], what]), [
        ["sensor", "sensor.rotation.complete"],
        ["sensor", "sensor.rotation.issue"],
        ["console", "fleet.rotation.request"],
        ["sensor", "sensor.rotation.complete"],
        ["sensor", "sensor.rotation.issue"],
        ["console", "sensor.rotation.request"],
      ]);
      const fleet = rotations.find(([, , what]) => what === "fleet.rotation.request")!;
      assert.deepEqual(fleet.slice(3), ["every sensor not revoked", "2 sensors"]);
      assert.ok(!(await page.content()).includes(third), "no token in the page");
    } finally {
      const run = await agent.stop();
      assert.equal(run.code, 0, run.stderr);
      assertNoTokens(run.stderr + (await backend.stop()).output);
    }
  },
});
