// reference-backend/console/static/table.js: the rows of one page of the fleet. Each sensor keeps
// its <tr> from one poll to the next and only the cells change, so the keyboard focus and a
// selection survive polling. The table is one stop for Tab: the arrow keys, Home and End move
// between rows (a roving tabindex), Enter on a name opens the sensor, Space ticks its box. When
// the page is stale, every state reads "unknown", with the state and time it is from.
import { createRow, fillRow } from "./row.js";
import { ago, duration } from "./text.js";

/**
 * @typedef {{ id: string, label: string | null, hostname: string, sensorIp: string,
 *   osInfo: string, architecture: string, agentVersion: string, enrolledAt: string,
 *   lastSeenAt: string, heartbeats: number, uptimeSeconds: number | null,
 *   interfaceCount: number, revokedAt: string | null, state: string,
 *   tokenIssuedAt: string, lastRotatedAt: string | null,
 *   rotationRequested: boolean, rotationPending: boolean,
 *   duplicate: { bindings: number, firstSeenAt: string, seen: { binding: string,
 *     hostname: string, sensorIp: string, lastSeenAt: string }[] } | null }} Row
 */

/**
 * The fleet's rows in `body`; `onOpen` opens a sensor, `onSelect` hears of the selection.
 * @param {HTMLTableSectionElement} body
 * @param {HTMLInputElement} selectPage the header's box for every row of the page
 * @param {{ onOpen: (row: Row) => void, onSelect: (selected: Set<string>) => void }} hooks
 */
export function createTable(body, selectPage, hooks) {
  /** @type {Map<string, { tr: HTMLTableRowElement, row: Row }>} */
  const drawn = new Map();
  /** @type {Set<string>} */
  const selected = new Set();
  /** @type {string | null} the row that holds the table's one Tab stop */
  let active = null;

  const ordered = () => /** @type {HTMLTableRowElement[]} */ ([...body.rows]);

  /** @param {string | null} id */
  const activate = (id) => {
    active = id;
    for (const tr of ordered()) {
      const tabIndex = tr.dataset.sensorId === id ? 0 : -1;
      for (const control of tr.querySelectorAll("input, button")) {
        /** @type {HTMLElement} */ (control).tabIndex = tabIndex;
      }
    }
  };

  const selectionChanged = () => {
    const ids = ordered().map((tr) => /** @type {string} */ (tr.dataset.sensorId));
    const ticked = ids.filter((id) => selected.has(id)).length;
    selectPage.checked = ticked > 0 && ticked === ids.length;
    selectPage.indeterminate = ticked > 0 && ticked < ids.length;
    hooks.onSelect(selected);
  };

  selectPage.addEventListener("change", () => {
    for (const tr of ordered()) {
      const id = /** @type {string} */ (tr.dataset.sensorId);
      if (selectPage.checked) selected.add(id);
      else selected.delete(id);
      /** @type {HTMLInputElement} */ (tr.querySelector("input")).checked = selectPage.checked;
    }
    selectionChanged();
  });

  body.addEventListener("focusin", (event) => {
    const tr = /** @type {HTMLElement} */ (event.target).closest("tr");
    if (tr?.dataset.sensorId && tr.dataset.sensorId !== active) activate(tr.dataset.sensorId);
  });

  body.addEventListener("keydown", (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    const rows = ordered();
    const at = rows.findIndex((tr) => tr.contains(target));
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: rows.length - 1 }[event.key];
    if (at < 0 || to === undefined || to < 0 || to >= rows.length) return;
    event.preventDefault();
    const kind = target.tagName === "INPUT" ? "input" : "button";
    activate(/** @type {string} */ (rows[to].dataset.sensorId));
    /** @type {HTMLElement} */ (rows[to].querySelector(kind)).focus();
  });

  return {
    /**
     * Draws `rows` as of `now` (server time, ms); `staleAt` is the time of the data while the
     * page is stale, else null.
     * @param {Row[]} rows
     * @param {number} now
     * @param {number | null} staleAt
     */
    draw(rows, now, staleAt) {
      const ids = new Set(rows.map((row) => row.id));
      for (const [id, entry] of drawn) {
        if (ids.has(id)) continue;
        entry.tr.remove();
        drawn.delete(id);
        selected.delete(id);
      }
      rows.forEach((row, index) => {
        let entry = drawn.get(row.id);
        if (entry === undefined) {
          const tr = createRow(
            row.id,
            () => hooks.onOpen(/** @type {any} */ (drawn.get(row.id)).row),
            (ticked) => {
              if (ticked) selected.add(row.id);
              else selected.delete(row.id);
              selectionChanged();
            },
          );
          entry = { tr, row };
          drawn.set(row.id, entry);
        }
        entry.row = row;
        fillRow(entry.tr, row, now, staleAt);
        if (body.children[index] !== entry.tr) {
          body.insertBefore(entry.tr, body.children[index] ?? null);
        }
      });
      activate(active !== null && ids.has(active) ? active : rows[0]?.id ?? null);
      selectionChanged();
    },

    /**
     * Moves the "last beat" and token ages on to `now` without redrawing.
     * @param {number} now
     */
    tick(now) {
      const since = (/** @type {Element} */ time) =>
        now - Date.parse(time.getAttribute("datetime") ?? "");
      for (const time of body.querySelectorAll("time.last-beat")) {
        time.textContent = ago(since(time));
      }
      for (const time of body.querySelectorAll("time.token-age")) {
        time.textContent = duration(since(time) / 1000);
      }
    },

    /** @returns {Row[]} the rows ticked, of this page */
    selectedRows() {
      return [...drawn.values()].filter(({ row }) => selected.has(row.id)).map(({ row }) => row);
    },

    /** Unticks every row. */
    clearSelection() {
      selected.clear();
      for (const box of body.querySelectorAll("input")) box.checked = false;
      selectionChanged();
    },

    /** Empties the table (at logout). */
    clear() {
      drawn.clear();
      selected.clear();
      body.replaceChildren();
      active = null;
    },
  };
}
