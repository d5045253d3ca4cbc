// reference-backend/console/static/row.js: one sensor as a row of the fleet's table and as the
// badges the detail panel shares with it: its state (or "unknown", with what it was and when, while
// the page is stale), a duplicate token's warning, and the token's age.
import { ago, clock, duration, element, sensorText, visible } from "./text.js";

/** @typedef {import("./table.js").Row} Row */

const CELLS = [
  "Label",
  "Hostname",
  "IP",
  "OS",
  "Agent",
  "Enrolled",
  "Last beat",
  "Token age",
  "State",
];

/**
 * A row for sensor `id`: its box, its name as the button that opens it, and a cell per column.
 * @param {string} id
 * @param {() => void} open
 * @param {(ticked: boolean) => void} tick
 * @returns {HTMLTableRowElement}
 */
export function createRow(id, open, tick) {
  const tr = element("tr", { attrs: { "data-sensor-id": id } });
  const box = element("input", { attrs: { type: "checkbox", tabindex: "-1" } });
  box.addEventListener("change", () => tick(box.checked));
  tr.append(element("td", { className: "select" }, box));
  for (const name of CELLS) {
    const cell = element(name === "Hostname" ? "th" : "td", { attrs: { "data-label": name } });
    if (name === "Hostname") cell.setAttribute("scope", "row");
    if (name === "Token age") cell.classList.add("col-token");
    tr.append(cell);
  }
  const button = element("button", {
    className: "open",
    attrs: { type: "button", tabindex: "-1" },
  });
  button.addEventListener("click", open);
  tr.cells[2].append(button);
  return tr;
}

/**
 * Writes `row` into its <tr>.
 * @param {HTMLTableRowElement} tr
 * @param {Row} row
 * @param {number} now server time, ms
 * @param {number | null} staleAt
 */
export function fillRow(tr, row, now, staleAt) {
  const lastSeen = Date.parse(row.lastSeenAt);
  const name = visible(row.label ?? row.hostname);
  const box = /** @type {HTMLInputElement} */ (tr.cells[0].querySelector("input"));
  box.setAttribute("aria-label", `Select ${name}`);
  const button = /** @type {HTMLButtonElement} */ (tr.cells[2].querySelector("button"));
  button.replaceChildren(sensorText(row.hostname));
  button.setAttribute("aria-label", `Open ${name}`);
  const cells = [
    sensorText(row.label),
    null,
    sensorText(row.sensorIp),
    sensorText(row.osInfo),
    sensorText(row.agentVersion),
    element(
      "time",
      { attrs: { datetime: row.enrolledAt, title: new Date(row.enrolledAt).toLocaleString() } },
      new Date(row.enrolledAt).toLocaleDateString(),
    ),
    element("time", {
      className: "last-beat",
      attrs: { datetime: row.lastSeenAt, title: new Date(lastSeen).toLocaleString() },
    }, ago(now - lastSeen)),
    tokenAge(row, now),
    stateCell(row, staleAt),
  ];
  cells.forEach((content, i) => {
    if (content !== null) tr.cells[i + 1].replaceChildren(content);
  });
  tr.dataset.state = staleAt === null ? row.state : "unknown";
  tr.classList.toggle("duplicate", isDuplicate(row));
}

/** @param {Row} row */
export function isDuplicate(row) {
  return row.duplicate !== null && row.state !== "revoked";
}

/**
 * The token's age at `now` (server time, ms), and whether a rotation is asked for or under way.
 * @param {Row} row
 * @param {number} now
 */
export function tokenAge(row, now) {
  const note = row.rotationPending ? "rotating" : row.rotationRequested ? "rotation asked" : "";
  const issued = Date.parse(row.tokenIssuedAt);
  return element(
    "span",
    {},
    element("time", {
      className: "token-age",
      attrs: { datetime: row.tokenIssuedAt, title: `issued ${new Date(issued).toLocaleString()}` },
    }, duration((now - issued) / 1000)),
    ...(note ? [" ", element("span", { className: "tag" }, note)] : []),
  );
}

/**
 * The state as a badge (and a duplicate token's warning); "unknown", with what it was and when,
 * while the page is stale.
 * @param {Row} row
 * @param {number | null} staleAt
 */
export function stateCell(row, staleAt) {
  const parts = staleAt === null
    ? [element("span", { className: `state state-${row.state}` }, row.state)]
    : [
      element("span", { className: "state state-unknown" }, "unknown"),
      element("span", { className: "as-of" }, `${row.state} as of ${clock(staleAt)}`),
    ];
  if (isDuplicate(row)) {
    parts.push(element("span", { className: "badge-duplicate" }, "duplicate token"));
  }
  return element("span", { className: "state-cell" }, ...parts);
}
