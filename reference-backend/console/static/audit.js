// reference-backend/console/static/audit.js: the audit trail, newest first: who (the admin token,
// a console session, or the backend itself), from which address, what, to what, and when. A page
// at a time; "Load older events" follows the backend's cursor.
import { poll } from "./api.js";
import { element, visible } from "./text.js";

const PAGE = 100;

/**
 * The audit view in `section`: refresh() loads the newest page again.
 * @param {HTMLElement} section
 * @param {(message: string) => void} say
 */
export function createAudit(section, say) {
  const body = /** @type {HTMLTableSectionElement} */ (section.querySelector("#audit-rows"));
  const more = /** @type {HTMLButtonElement} */ (section.querySelector("#audit-more"));
  /** @type {string | null} */
  let cursor = null;

  /** @param {boolean} older */
  const load = async (older) => {
    const query = `limit=${PAGE}${older && cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    try {
      const answer = await poll(`/console/api/audit?${query}`, null);
      if (answer === null) return;
      const rows = /** @type {any[]} */ (answer.data.events).map(eventRow);
      if (older) body.append(...rows);
      else body.replaceChildren(...rows);
      cursor = answer.data.nextCursor;
      more.hidden = cursor === null;
    } catch (error) {
      say(`Cannot read the audit trail: ${/** @type {Error} */ (error).message}`);
    }
  };
  more.addEventListener("click", () => void load(true));
  return { refresh: () => load(false) };
}

/** @param {any} event */
function eventRow(event) {
  const cell = (/** @type {string} */ label, /** @type {string | Node} */ content) =>
    element("td", { attrs: { "data-label": label } }, content);
  return element(
    "tr",
    {},
    element(
      "th",
      { attrs: { scope: "row", "data-label": "When" } },
      element("time", { attrs: { datetime: event.at } }, new Date(event.at).toLocaleString()),
    ),
    cell("Who", event.who),
    cell("From", event.from ?? "—"),
    cell("What", element("code", {}, event.action)),
    cell("Target", visible(event.target)),
    cell("Detail", visible(event.detail)),
  );
}
