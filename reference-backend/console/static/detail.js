// reference-backend/console/static/detail.js: one sensor in a panel beside the list (over it on a
// phone), where the operator is: its facts, its credential (token age, rotation, a duplicate
// token's hosts), the chart of its byte rates and its interfaces, refreshed with the fleet's polls.
// Escape or Close shuts it and gives the focus back to what opened it. Rotate, revoke and remove
// each ask first.
import { ApiError, change, poll } from "./api.js";
import { rateChart } from "./chart.js";
import { confirmAction } from "./confirm.js";
import { credentialFacts, facts, interfaceTable } from "./facts.js";
import { freshAt, isStale, onStaleChange, setEnabled } from "./stale.js";
import { element, sensorText, visible } from "./text.js";

/**
 * The detail panel in `panel`: show(id) opens it, refresh() follows the fleet's polls.
 * @param {HTMLElement} panel
 * @param {{ say: (message: string) => void, changed: () => void }} hooks
 */
export function createDetail(panel, hooks) {
  const $ = (/** @type {string} */ id) => /** @type {any} */ (panel.querySelector(id));
  const heading = /** @type {HTMLElement} */ ($("#detail-title"));
  const content = /** @type {HTMLElement} */ ($("#detail-content"));
  const rotate = /** @type {HTMLButtonElement} */ ($("#detail-rotate"));
  const revoke = /** @type {HTMLButtonElement} */ ($("#detail-revoke"));
  const remove = /** @type {HTMLButtonElement} */ ($("#detail-delete"));
  /** @type {string | null} */
  let shown = null;
  /** @type {string | null} */
  let etag = null;
  /** @type {any} */
  let last = null;
  let clockOffset = 0; // server time minus this browser's time, from the Date header
  /** @type {HTMLElement | null} */
  let opener = null;

  const refresh = async () => {
    const id = shown;
    if (id === null) return;
    try {
      const answer = await poll(`/console/api/sensors/${id}`, etag);
      if (answer === null || shown !== id) return;
      etag = answer.etag;
      clockOffset = answer.serverTime - Date.now();
      last = answer.data;
      draw();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && shown === id) {
        hooks.say("That sensor is gone: it was removed.");
        close();
      }
      // No answer: the fleet's poll makes the page stale.
    }
  };

  const draw = () => {
    if (last === null) return;
    const { sensor, interfaces, counters } = last;
    const staleAt = isStale() ? freshAt() : null;
    const now = Date.now() + clockOffset;
    heading.replaceChildren("Sensor ", sensorText(sensor.label ?? sensor.hostname));
    content.replaceChildren(
      facts(sensor, staleAt, now),
      ...credentialFacts(sensor, now),
      element("h3", {}, "Byte rates over the last beats"),
      element(
        "p",
        { className: "legend" },
        element("span", { className: "key key-sent" }, "sent"),
        " ",
        element("span", { className: "key key-recv" }, "received"),
        ` (all interfaces but loopback; the last ${counters.length} ${
          counters.length === 1 ? "beat" : "beats"
        })`,
      ),
      rateChart(counters),
      element("h3", {}, `Interfaces (${interfaces.length})`),
      interfaceTable(interfaces),
    );
    setEnabled(rotate, sensor.state !== "revoked" && !sensor.rotationRequested);
    rotate.title = sensor.state === "revoked"
      ? "A revoked sensor has no token to rotate"
      : sensor.rotationRequested
      ? "A rotation is already asked for: the agent rotates at its next heartbeat"
      : "";
    setEnabled(revoke, sensor.state !== "revoked");
    setEnabled(remove, sensor.state === "revoked" || sensor.state === "silent");
    remove.title = remove.dataset.enabled === "true" ? "" : "Only a revoked or silent sensor " +
      "can be removed: revoke it first";
  };
  onStaleChange(draw);

  const close = () => {
    if (shown === null) return;
    shown = null;
    last = null;
    panel.hidden = true;
    document.body.classList.remove("drawer-open");
    opener?.focus();
  };
  $("#detail-close").addEventListener("click", close);
  document.addEventListener("keydown", (event) => {
    const dialogOpen = document.querySelector("dialog[open]") !== null;
    if (event.key === "Escape" && shown !== null && !dialogOpen) {
      event.preventDefault();
      close();
    }
  });

  /**
   * Asks, then acts on the sensor shown.
   * @param {{ title: string, effect: string, action: string, path: string, done: string }} what
   */
  const act = async (what) => {
    const sensor = last?.sensor;
    if (!sensor) return;
    const name = `${visible(sensor.label ?? sensor.hostname)} on ${visible(sensor.hostname)} (${
      visible(sensor.sensorIp)
    })`;
    const ok = await confirmAction({
      title: what.title,
      what: name,
      effect: what.effect,
      action: what.action,
    });
    if (!ok) return;
    try {
      await change(`/console/api/sensors/${sensor.id}/${what.path}`, {});
      etag = null;
      if (what.path === "delete") close();
      else await refresh();
      // Said once the panel shows it: whoever reads the status line finds the panel agreeing.
      hooks.say(`${what.done}: ${visible(sensor.label ?? sensor.hostname)}.`);
      hooks.changed();
    } catch (error) {
      hooks.say(`${what.action} failed: ${/** @type {Error} */ (error).message}`);
    }
  };
  rotate.addEventListener("click", () =>
    act({
      title: "Rotate this sensor's token?",
      effect: "At its next heartbeat the agent trades its token for a new one; the old one stops " +
        "working once the new one is used.",
      action: "Rotate now",
      path: "rotate",
      done: "Rotation asked",
    }));
  revoke.addEventListener("click", () =>
    act({
      title: "Revoke this sensor?",
      effect: "Its agent stops at its next heartbeat (exit 77) and needs a new install token to " +
        "enroll again. This cannot be undone.",
      action: "Revoke",
      path: "revoke",
      done: "Revoked; its agent stops at its next heartbeat",
    }));
  remove.addEventListener("click", () =>
    act({
      title: "Remove this sensor?",
      effect: "It leaves the fleet and every record of it goes. This cannot be undone.",
      action: "Remove",
      path: "delete",
      done: "Removed",
    }));

  return {
    /** @param {string} id */
    show(id) {
      const focused = document.activeElement;
      if (!panel.contains(focused)) opener = focused instanceof HTMLElement ? focused : null;
      shown = id;
      etag = null;
      last = null;
      panel.hidden = false;
      document.body.classList.add("drawer-open");
      heading.replaceChildren("Sensor");
      content.replaceChildren(element("p", {}, "Loading…"));
      heading.focus();
      void refresh();
    },
    hide: close,
    refresh,
  };
}
