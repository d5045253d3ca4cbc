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

  /** @type {Map<string, { tr: HTMLTableRowElement, row: Row }>} */
  const drawn = new Map();

  // Each sensor keeps its <tr> and its buttons from one poll to the next; only the cells' text
  // changes. Rebuilding the rows would take the keyboard focus (or a click) from the operator.
  const draw = () => {
    const now = Date.now() + clockOffset;
    const ids = new Set(rows.map((row) => row.id));
    for (const [id, entry] of drawn) {
      if (!ids.has(id)) {
        entry.tr.remove();
        drawn.delete(id);
      }
    }
    rows.forEach((row, index) => {
      let entry = drawn.get(row.id);
      if (entry === undefined) {
        entry = { tr: createRow(row.id, hooks, () => drawn.get(row.id)?.row ?? row), row };
        drawn.set(row.id, entry);
      }
      entry.row = row;
      fillRow(entry.tr, row, now);
      if (body.children[index] !== entry.tr) {
        body.insertBefore(entry.tr, body.children[index] ?? null);
      }
    });
    empty.hidden = rows.length > 0;
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
      drawn.clear();
      body.replaceChildren();
    },
    /** Polls now (after a revoke), without waiting for the next tick. */
    refresh,
  };
}

/**
 * A row for sensor `id`: a cell per column and the two buttons, which act on the row as it is
 * when pressed (`current`).
 * @param {string} id
 * @param {{ onDetail: (row: Row) => void, onRevoke: (row: Row) => void }} hooks
 * @param {() => Row} current
 * @returns {HTMLTableRowElement}
 */
function createRow(id, hooks, current) {
  const tr = element("tr", { attrs: { "data-sensor-id": id } });
  COLUMNS.forEach((column, i) => {
    const cell = element(i === 1 ? "th" : "td", { attrs: { "data-label": column } });
    if (i === 1) cell.setAttribute("scope", "row");
    tr.append(cell);
  });
  const details = element("button", { className: "details", attrs: { type: "button" } }, "Details");
  details.addEventListener("click", () => hooks.onDetail(current()));
  const revoke = element(
    "button",
    { className: "revoke danger", attrs: { type: "button" } },
    "Revoke",
  );
  revoke.addEventListener("click", () => hooks.onRevoke(current()));
  tr.cells[COLUMNS.length - 1].append(element("div", { className: "actions" }, details, revoke));
  return tr;
}

/**
 * Writes `row` into its <tr>: the text cells, the state, and the buttons' names and availability.
 * @param {HTMLTableRowElement} tr
 * @param {Row} row
 * @param {number} now server time, ms
 */
function fillRow(tr, row, now) {
  const lastSeen = Date.parse(row.lastSeenAt);
  const contents = [
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
  ];
  contents.forEach((content, i) => tr.cells[i].replaceChildren(content));
  tr.setAttribute("data-state", row.state);
  const name = visible(row.label ?? row.hostname);
  const [details, revoke] = tr.querySelectorAll("button");
  details.setAttribute("aria-label", `Details of ${name}`);
  revoke.setAttribute("aria-label", `Revoke ${name}`);
  revoke.disabled = row.state === "revoked";
}
