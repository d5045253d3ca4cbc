// reference-backend/console/static/fleet.js: the fleet table, kept live by polling
// /console/api/fleet with the last ETag: a 304 costs no body, so polling every half interval is
// cheap, and it survives proxies and the backend's connection deadlines, which a long-lived
// server-sent-events stream would not. The "last beat" ages tick from the server's clock.
import { ApiError, heartbeatIntervalSeconds, poll } from "./api.js";
import { ago, element, sensorText, visible } from "./text.js";

const COLUMNS = [
  "Label",
  "Hostname",
  "IP",
  "OS",
  "Agent",
  "Enrolled",
  "Last beat",
  "State",
  "Actions",
];

/**
 * @typedef {{ id: string, label: string | null, hostname: string, sensorIp: string,
 *   osInfo: string, architecture: string, agentVersion: string, enrolledAt: string,
 *   lastSeenAt: string, heartbeats: number, uptimeSeconds: number | null,
 *   interfaceCount: number, revokedAt: string | null, state: string }} Row
 */

/**
 * The live fleet in `section`: call start() after login and stop() at logout.
 * @param {HTMLElement} section
 * @param {{ onDetail: (row: Row) => void, onRevoke: (row: Row) => void,
 *   onChange: (rows: Row[]) => void, say: (message: string) => void }} hooks
 */
export function createFleet(section, hooks) {
  const body = /** @type {HTMLTableSectionElement} */ (section.querySelector("#fleet-rows"));
  const empty = /** @type {HTMLElement} */ (section.querySelector("#fleet-empty"));
  const updated = /** @type {HTMLElement} */ (section.querySelector("#fleet-updated"));
  /** @type {string | null} */
  let etag = null;
  /** @type {Row[]} */
  let rows = [];
  let clockOffset = 0; // server time minus this browser's time, from the Date header
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let running = false;
  let failing = false;

  // Rebuilding the rows would take the keyboard focus away from the operator: it is done only
  // when the data changed, and gives the focus back to the same button of the same sensor.
  const draw = () => {
    const now = Date.now() + clockOffset;
    const focused = document.activeElement;
    const focusRow = focused?.closest("tr")?.getAttribute("data-sensor-id");
    const focusClass = focused?.className.split(" ")[0];
    body.replaceChildren(...rows.map((row) => rowElement(row, now, hooks)));
    empty.hidden = rows.length > 0;
    if (focusRow && focusClass && body.contains(focused) === false) {
      const again = body.querySelector(`tr[data-sensor-id="${focusRow}"] .${focusClass}`);
      if (again instanceof HTMLElement && !again.hasAttribute("disabled")) again.focus();
    }
  };

  /** Only the "last beat" ages move while nothing else changed. */
  const tick = () => {
    const now = Date.now() + clockOffset;
    for (const time of body.querySelectorAll("time.last-beat")) {
      time.textContent = ago(now - Date.parse(time.getAttribute("datetime") ?? ""));
    }
  };

  const refresh = async () => {
    try {
      const answer = await poll("/console/api/fleet", etag);
      if (answer === null) {
        tick();
      } else {
        etag = answer.etag;
        clockOffset = answer.serverTime - Date.now();
        rows = answer.data.sensors;
        draw();
        hooks.onChange(rows);
      }
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      if (failing) hooks.say("The backend answers again.");
      failing = false;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      if (!failing) hooks.say(`Cannot reach the backend: ${/** @type {Error} */ (error).message}`);
      failing = true;
    }
  };

  const loop = async () => {
    if (!running) return;
    if (!document.hidden) await refresh();
    if (!running) return;
    // Half an interval: a new beat shows within that; at least 1 s, at most 5 s between polls.
    const seconds = Math.min(5, Math.max(1, heartbeatIntervalSeconds() / 2));
    timer = setTimeout(loop, seconds * 1000);
  };

  return {
    start() {
      if (running) return;
      running = true;
      etag = null;
      void loop();
    },
    stop() {
      running = false;
      clearTimeout(timer);
      rows = [];
      body.replaceChildren();
    },
    /** Polls now (after a revoke), without waiting for the next tick. */
    refresh,
  };
}

/**
 * @param {Row} row
 * @param {number} now server time, ms
 * @param {{ onDetail: (row: Row) => void, onRevoke: (row: Row) => void }} hooks
 */
function rowElement(row, now, hooks) {
  const lastSeen = Date.parse(row.lastSeenAt);
  const cells = [
    sensorText(row.label),
    sensorText(row.hostname),
    sensorText(row.sensorIp),
    sensorText(row.osInfo),
    sensorText(row.agentVersion),
    element(
      "time",
      { attrs: { datetime: row.enrolledAt } },
      new Date(row.enrolledAt).toLocaleString(),
    ),
    element("time", {
      className: "last-beat",
      attrs: { datetime: row.lastSeenAt, title: new Date(lastSeen).toLocaleString() },
    }, ago(now - lastSeen)),
    element("span", { className: `state state-${row.state}` }, row.state),
    actions(row, hooks),
  ];
  const tr = element("tr", { attrs: { "data-sensor-id": row.id, "data-state": row.state } });
  cells.forEach((content, i) => {
    const tag = i === 1 ? "th" : "td";
    const cell = element(tag, { attrs: { "data-label": COLUMNS[i] } }, content);
    if (tag === "th") cell.setAttribute("scope", "row");
    tr.append(cell);
  });
  return tr;
}

/**
 * @param {Row} row
 * @param {{ onDetail: (row: Row) => void, onRevoke: (row: Row) => void }} hooks
 */
function actions(row, hooks) {
  const name = visible(row.label ?? row.hostname);
  const details = element("button", {
    className: "details",
    attrs: { type: "button", "aria-label": `Details of ${name}` },
  }, "Details");
  details.addEventListener("click", () => hooks.onDetail(row));
  const revoke = element("button", {
    className: "revoke danger",
    attrs: { type: "button", "aria-label": `Revoke ${name}` },
  }, "Revoke");
  revoke.disabled = row.state === "revoked";
  revoke.addEventListener("click", () => hooks.onRevoke(row));
  return element("div", { className: "actions" }, details, revoke);
}
