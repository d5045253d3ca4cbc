// The operator console in a real headless Chromium (reference-backend/console/, issues 15 and 23):
// log in, mint with a label, the real agent enrolls with the copied token and beats, revoke from
// the sensor's panel, exit 77; states following the interval; a hostile hostname as inert text; a
// cross-site form post refused; the phone width. CONSOLE_SCREENSHOTS=docs regenerates
// docs/console.png, console-hostile.png and console-phone.png from these runs.
import assert from "node:assert/strict";
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
import { startRefBackend } from "../../support/refbackend.ts";
import { FIXTURE, FIXTURE_READS } from "../../support/seed.ts";
import { tempDir } from "../../support/tempdir.ts";

const browser = browserTest("console_browser_test.ts");

/** A sensor-supplied name that would run script, hide text or reverse it if it were not inert. */
const HOSTILE_HOSTNAME =
  '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">\u202Egnp.exe\u200B\u0085';
/** How the console must show it: as text, the bidi override and invisible characters escaped. */
const HOSTILE_SHOWN =
  '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">\\u202Egnp.exe\\u200B\\u0085';

Deno.test({
  name:
    "console in Chromium: log in, mint with a label, the agent enrolls with the copied token and goes online, revoke exits it 77",
  ...browser,
  async fn() {
    await using backend = await startRefBackend(1);
    await using chromium = await launchBrowser();
    const page = await openConsole(chromium, backend);
    await chromium.browser.defaultBrowserContext().overridePermissions(backend.url, [
      "clipboard-read",
      "clipboard-sanitized-write",
    ]);

    // Mint, with a label and an expiry; copy the command and the token with the page's buttons.
    await page.click('a[href="#tokens"][data-view]');
    await page.waitForSelector("#view-tokens", { visible: true });
    await page.type("#mint-label", "rack 4, row B");
    await page.select("#mint-ttl", "900");
    await page.click("#mint-form button[type=submit]");
    await page.waitForSelector("#install-command", { visible: true });
    const clipboard = () => inPage<string>(page, "navigator.clipboard.readText()");
    await page.click("#install-command-copy");
    await page.waitForFunction(`document.querySelector(".copy-status")?.textContent === "Copied."`);
    const command = await clipboard();
    assert.match(command, new RegExp(`curl -fsSL --fail-early .*'${backend.url}/install\\.sh'`));
    assert.match(
      command,
      new RegExp(
        `sudo bash install\\.sh --backend-url '${backend.url}' --sensor-id 'rack 4, row B' ` +
          "--binary ./sensor-agent$",
      ),
    );
    // No AGENT_BINARY_URL: the panel says plainly what to copy to the host first.
    const advice = await page.$eval("#binary-advice", (p) => p.textContent ?? "");
    assert.match(advice, /names no agent binary.*deno task compile.*AGENT_BINARY_URL/s);
    await page.click("#install-token-copy");
    await page.waitForFunction(`navigator.clipboard.readText().then((t) => !t.startsWith("curl"))`);
    const installToken = await clipboard();
    usedTokens.add(installToken);
    assert.match(installToken, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!command.includes(installToken), "the install command holds no token");

    // Done: the token leaves the page; its fingerprint stays, in the list of install tokens.
    await page.click("#minted-done");
    await page.waitForSelector("#minted-once", { hidden: true });
    const listed = await page.$eval("#tokens-rows", (rows) => rows.textContent ?? "");
    assert.match(listed, /sha256:[0-9a-f]{12}rack 4, row B.*unused/);
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
      await page.click('a[href="#fleet"][data-view]');
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
      assert.equal(cells[2], "sensor-e2e-host");
      assert.equal(cells[3], "192.0.2.10");
      const saved = /^SENSOR_TOKEN=(.+)$/m.exec(await Deno.readTextFile(config))?.[1];
      assert.ok(saved, "the agent saved its sensor token");
      usedTokens.add(saved);

      // The sensor's panel: the interfaces and the chart of the byte rates.
      await page.click(`tr[data-sensor-id="${id}"] button.open`);
      await page.waitForSelector("#detail svg.rate-chart", { visible: true });
      await page.waitForFunction(
        `document.querySelectorAll("#detail table.interfaces tbody tr").length > 0`,
      );
      // Revoke, confirmed in the dialog; the agent's next beat gets 401 and it exits 77.
      // By keyboard first: Enter on Revoke opens the dialog on Cancel, Escape cancels it.
      await page.focus("#detail-revoke");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#confirm-dialog[open]");
      assert.equal(await inPage(page, "document.activeElement.id"), "confirm-cancel");
      assert.match(await page.$eval("#confirm-what", (p) => p.textContent ?? ""), /sensor-e2e/);
      await page.keyboard.press("Escape");
      await page.waitForSelector("#confirm-dialog:not([open])");
      assert.equal((await backend.fleet())[0].revokedAt, null, "cancel revokes nothing");
      await page.click("#detail-revoke");
      await confirmDialog(page, /^Revoke this sensor\?$/);
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
  ...browser,
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
      await using chromium = await launchBrowser();
      const page = await openConsole(chromium, backend, 1600, 1000);
      const silent = (await enrollDirectly(backend, "sensor-03.dc1.example", 1, "rack-3")).id;
      await waitForState(page, silent, "online");
      await waitForState(page, silent, "late", 20_000);
      // Its last beat now is 6 s after the other's: it is late while that one is silent.
      const late = (await enrollDirectly(backend, "sensor-02.dc1.example", 1, "rack-2")).id;
      await waitForState(page, silent, "silent", 20_000);
      await waitForState(page, late, "late", 20_000);
      await waitForState(page, online.id, "online");
      await waitForState(page, revoked, "revoked");
      // The counts follow, and filter when pressed.
      const chips = await page.$$eval(
        ".chip:not([hidden])",
        (all) => all.map((c) => c.textContent),
      );
      assert.deepEqual(chips, ["All 4", "Online 1", "Late 1", "Silent 1", "Revoked 1"]);
      await page.click(".chip-silent");
      await page.waitForFunction(`document.querySelectorAll("#fleet-rows tr").length === 1`);
      assert.equal(
        await page.$eval("#fleet-rows tr", (tr) => tr.getAttribute("data-sensor-id")),
        silent,
      );
      await page.click(".chip-all");
      await page.waitForFunction(`document.querySelectorAll("#fleet-rows tr").length === 4`);
      await page.click(`tr[data-sensor-id="${revoked}"] button.open`);
      await page.waitForSelector("#detail-revoke:disabled");
      assert.equal(await inPage(page, `document.querySelector("#detail-delete").disabled`), false);
      await page.click(`tr[data-sensor-id="${online.id}"] button.open`);
      await page.waitForSelector("#detail svg.rate-chart polyline", { visible: true });
      // An online sensor cannot be removed (revoke it first).
      assert.equal(await inPage(page, `document.querySelector("#detail-delete").disabled`), true);
      await screenshot(page, "console.png", false);
    } finally {
      beating = false;
      await beats;
    }
  },
});

Deno.test({
  name: "console in Chromium: a hostile hostname renders as inert text",
  ...browser,
  async fn() {
    await using backend = await startRefBackend(30);
    const { id } = await enrollDirectly(backend, HOSTILE_HOSTNAME, 12, "rack-4\u202Eevil");
    await using chromium = await launchBrowser();
    const page = await openConsole(chromium, backend);
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
    await page.click(`tr[data-sensor-id="${id}"] button.open`);
    await page.waitForSelector("#detail svg.rate-chart polyline", { visible: true });
    await page.click("#detail-revoke");
    await page.waitForSelector("#confirm-dialog[open]");
    const found = await inPage<{ pwned: unknown; injected: number; text: string }>(
      page,
      `({
        pwned: window.pwned,
        injected: document.querySelectorAll("main script, main img").length,
        text: document.body.innerText,
      })`,
    );
    assert.equal(found.pwned, undefined);
    assert.equal(found.injected, 0);
    assert.doesNotMatch(found.text, /[\u202A-\u202E\u2066-\u2069\u200B\u0085]/);
    assert.ok(found.text.includes(HOSTILE_SHOWN));
    await page.click("#confirm-cancel");
    await screenshot(page, "console-hostile.png", false);
  },
});

Deno.test({
  name: "console in Chromium: a cross-site form post is rejected and revokes nothing",
  ...browser,
  async fn() {
    await using backend = await startRefBackend();
    const { id } = await enrollDirectly(backend, "sensor-target", 1);
    await using chromium = await launchBrowser();
    const page = await openConsole(chromium, backend);
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
      const evil = await chromium.browser.newPage();
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
