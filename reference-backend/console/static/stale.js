// reference-backend/console/static/stale.js: whether the page's data is live. When a poll fails,
// everything on the page is as old as the last answer: the page says since when, every control
// that needs the backend (marked data-needs-backend) is disabled, and the views show states as
// "unknown" with the time they are from. The next answer undoes all of it by itself.
import { clock } from "./text.js";

/** @type {number | null} the time (ms) of the last answer, while the backend does not answer */
let staleSince = null;
/** @type {number} the time (ms) of the last good answer */
let lastAnswer = Date.now();
/** @type {Set<() => void>} */
const listeners = new Set();

/** @returns {boolean} true while the backend does not answer */
export function isStale() {
  return staleSince !== null;
}

/** @returns {number} when the data on the page was last fresh (ms since the epoch) */
export function freshAt() {
  return lastAnswer;
}

/**
 * Calls `listener` whenever the page turns stale or live again.
 * @param {() => void} listener
 */
export function onStaleChange(listener) {
  listeners.add(listener);
}

/** A poll was answered: the page is live (again). */
export function answered() {
  lastAnswer = Date.now();
  if (staleSince === null) return;
  staleSince = null;
  apply();
}

/** A poll got no answer: the page is stale from now on, until the next answer. */
export function unanswered() {
  if (staleSince !== null) return;
  staleSince = Date.now();
  apply();
}

/**
 * Enables or disables a control that needs the backend: it stays disabled while the page is stale.
 * @param {HTMLButtonElement | HTMLInputElement} control
 * @param {boolean} enabled
 */
export function setEnabled(control, enabled) {
  control.dataset.enabled = String(enabled);
  control.disabled = !enabled || staleSince !== null;
}

function apply() {
  const banner = /** @type {HTMLElement} */ (document.getElementById("stale"));
  banner.hidden = staleSince === null;
  banner.textContent = staleSince === null
    ? ""
    : `The backend has not answered since ${clock(staleSince)}. Everything shown is as of ${
      clock(lastAnswer)
    }: states are unknown, and actions are disabled until it answers again.`;
  document.body.classList.toggle("is-stale", staleSince !== null);
  for (const control of document.querySelectorAll("[data-needs-backend]")) {
    const button = /** @type {HTMLButtonElement} */ (control);
    button.disabled = staleSince !== null || button.dataset.enabled === "false";
  }
  for (const listener of listeners) listener();
}
