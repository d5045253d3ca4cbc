// reference-backend/console/static/fleet.js: the fleet view, kept live by polling
// /console/api/fleet with the view's query and the last ETag: a 304 costs no body, and polling
// survives proxies and the backend's connection deadlines, which a long-lived stream would not.
// The DOM holds one page of rows (table.js); the filters make the query (filters.js). A poll
// that fails makes the page stale (stale.js) until one is answered. Bulk revoke and removal ask
// once, naming the count.
import { ApiError, change, heartbeatIntervalSeconds, poll } from "./api.js";
import { confirmAction } from "./confirm.js";
import { createFilters } from "./filters.js";
import { answered, freshAt, isStale, onStaleChange, setEnabled, unanswered } from "./stale.js";
import { createTable } from "./table.js";
import { clock, plural, visible } from "./text.js";

/** @typedef {import("./table.js").Row} Row */

/**
 * The live fleet in `section`: start() after login, stop() at logout.
 * @param {HTMLElement} section
 * @param {{ onOpen: (row: Row) => void, onPoll: () => void, say: (message: string) => void }} hooks
 */
export function createFleet(section, hooks) {
  const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));
  const empty = /** @type {HTMLElement} */ ($("fleet-empty"));
  const summary = /** @type {HTMLElement} */ ($("fleet-summary"));
  const bulkCount = /** @type {HTMLElement} */ ($("bulk-count"));
  const bulkRevoke = /** @type {HTMLButtonElement} */ ($("bulk-revoke"));
  const bulkDelete = /** @type {HTMLButtonElement} */ ($("bulk-delete"));
  const rotateAll = /** @type {HTMLButtonElement} */ ($("rotate-fleet"));
  const banner = /** @type {HTMLElement} */ ($("duplicates"));

  /** @type {string | null} */
  let etag = null;
  /** @type {any} the last answer */
  let last = null;
  let clockOffset = 0; // server time minus this browser's time, from the Date header
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let running = false;
  let asked = 0; // polls started; an answer to an older query than the latest is dropped

  const rows = createTable($("fleet-rows"), $("select-page"), {
    onOpen: hooks.onOpen,
    onSelect: (selected) => {
      bulkCount.textContent = selected.size === 0 ? "None selected" : `${selected.size} selected`;
      setEnabled(bulkRevoke, selected.size > 0);
      setEnabled(bulkDelete, selected.size > 0);
    },
  });
  const filters = createFilters(section, () => {
    etag = null;
    rows.clearSelection();
    void refresh();
  });

  const draw = () => {
    if (last === null) return;
    const staleAt = isStale() ? freshAt() : null;
    const sensors = /** @type {Row[]} */ (last.sensors);
    rows.draw(sensors, Date.now() + clockOffset, staleAt);
    // For the browser's performance tools (and the console's tests): when the fleet first showed.
    if (performance.getEntriesByName("fleet-first-render").length === 0) {
      performance.mark("fleet-first-render");
    }
    const where = filters.show(last, sensors.length, staleAt === null ? null : clock(staleAt));
    empty.hidden = sensors.length > 0;
    empty.textContent = last.total === 0 && sumOf(last.counts) === 0
      ? "No sensor has enrolled yet: mint an install token under Install tokens."
      : "No sensor matches these filters.";
    summary.textContent = staleAt === null
      ? `${where}, updated ${clock(Date.now())}`
      : `${where}, as of ${clock(staleAt)}: the backend does not answer`;
    const duplicates = last.counts.duplicate ?? 0;
    banner.hidden = duplicates === 0;
    /** @type {HTMLElement} */ ($("duplicates-text")).textContent =
      `${plural(duplicates, "sensor")} ${
        duplicates === 1 ? "has its" : "have their"
      } token used by more than one host (a cloned ` +
      "VM or a copied env file). Rotate the token: the first host to use the new one keeps the " +
      "sensor, the others are shut out and need an install token of their own.";
  };

  const refresh = async () => {
    const ask = ++asked;
    try {
      const answer = await poll(`/console/api/fleet?${filters.queryString()}`, etag);
      if (ask !== asked) return;
      answered();
      if (answer === null) {
        rows.tick(Date.now() + clockOffset);
      } else {
        etag = answer.etag;
        clockOffset = answer.serverTime - Date.now();
        last = answer.data;
        draw();
      }
      hooks.onPoll();
    } catch (error) {
      if (ask !== asked || (error instanceof ApiError && error.status === 401)) return;
      if (error instanceof ApiError && error.status === 400) {
        hooks.say(`The fleet cannot be shown: ${error.message}`);
        return;
      }
      unanswered();
    }
  };

  onStaleChange(() => {
    etag = null; // the first answer after an outage redraws everything
    draw();
  });

  const loop = async () => {
    if (!running) return;
    if (!document.hidden) await refresh();
    if (!running) return;
    // Half an interval: a new beat shows within that; at least 1 s, at most 5 s between polls.
    const seconds = Math.min(5, Math.max(1, heartbeatIntervalSeconds() / 2));
    timer = setTimeout(loop, seconds * 1000);
  };

  /**
   * Revokes or removes every ticked sensor of the page, after one confirmation naming the count.
   * @param {"revoke" | "delete"} action
   */
  const bulk = async (action) => {
    const chosen = rows.selectedRows();
    if (chosen.length === 0) return;
    const count = plural(chosen.length, "sensor");
    const names = chosen.slice(0, 3).map((row) => visible(row.label ?? row.hostname)).join(", ");
    const ok = await confirmAction(
      action === "revoke"
        ? {
          title: `Revoke ${count}?`,
          what: `${names}${chosen.length > 3 ? ` and ${chosen.length - 3} more` : ""}.`,
          effect: "Their agents stop at their next heartbeat (exit 77) and need a new install " +
            "token to enroll again. This cannot be undone.",
          action: `Revoke ${count}`,
        }
        : {
          title: `Remove ${count}?`,
          what: `${names}${chosen.length > 3 ? ` and ${chosen.length - 3} more` : ""}.`,
          effect: "They leave the fleet and every record of them goes. Only revoked or silent " +
            "sensors can be removed: online and late ones are skipped (revoke them first).",
          action: `Remove ${count}`,
        },
    );
    if (!ok) return;
    try {
      const result = await change("/console/api/sensors/bulk", {
        action,
        ids: chosen.map((row) => row.id),
      });
      const verb = action === "revoke" ? "Revoked" : "Removed";
      const failed = /** @type {{ id: string, error: string }[]} */ (result.failed);
      hooks.say(
        `${verb} ${plural(result.done.length, "sensor")}.${
          failed.length === 0
            ? ""
            : ` ${plural(failed.length, "sensor")} not: ${failed[0].error}${
              failed.length > 1 ? " (and others)" : ""
            }.`
        }`,
      );
      rows.clearSelection();
      etag = null;
      await refresh();
    } catch (error) {
      hooks.say(
        `${action === "revoke" ? "Revoking" : "Removing"} failed: ${
          /** @type {Error} */ (error).message
        }`,
      );
    }
  };
  bulkRevoke.addEventListener("click", () => void bulk("revoke"));
  bulkDelete.addEventListener("click", () => void bulk("delete"));
  rotateAll.addEventListener("click", async () => {
    const count = plural(
      last === null ? 0 : sumOf(last.counts) - (last.counts.revoked ?? 0),
      "sensor",
    );
    const ok = await confirmAction({
      title: `Rotate the tokens of ${count}?`,
      what: "Every sensor that is not revoked.",
      effect: "Each trades its token for a new one at its next heartbeat; a sensor that is " +
        "silent does so when it comes back. The old tokens stop working once the new ones are used.",
      action: `Rotate ${count}`,
    });
    if (!ok) return;
    try {
      const result = await change("/console/api/sensors/rotate", {});
      etag = null;
      await refresh(); // never throws: a poll that fails marks the page stale
      hooks.say(`Rotation asked of ${plural(result.requested, "sensor")}.`);
    } catch (error) {
      hooks.say(`Rotating failed: ${/** @type {Error} */ (error).message}`);
    }
  });
  /** @type {HTMLElement} */ ($("duplicates-show")).addEventListener("click", () => {
    filters.showDuplicates();
  });

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
      last = null;
      rows.clear();
      banner.hidden = true;
    },
    /** Polls now (after a change), without waiting for the next tick. */
    refresh() {
      etag = null;
      return refresh();
    },
  };
}

/** @param {Record<string, number>} counts */
function sumOf(counts) {
  return ["online", "late", "silent", "revoked"].reduce(
    (sum, state) => sum + (counts[state] ?? 0),
    0,
  );
}
