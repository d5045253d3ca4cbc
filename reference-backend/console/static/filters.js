// reference-backend/console/static/filters.js: what part of the fleet the operator looks at: the
// search (sent once typing pauses), the state counts that filter when pressed, the version and OS
// filters, the sortable column headers (aria-sort says which and how), the page size, and the
// pages (the backend's cursors, kept to go back). Everything becomes one query of GET
// /console/api/fleet; the fleet view polls with it.
import { plural } from "./text.js";

const SEARCH_PAUSE_MS = 150;
const STATES = ["online", "late", "silent", "revoked"];
/** @type {Record<string, string>} */
const TIME_FIELDS = { lastSeenAt: "desc", enrolledAt: "desc" };

/**
 * @typedef {{ counts: Record<string, number>, total: number, nextCursor: string | null,
 *   facets: { agentVersion: { value: string, count: number }[],
 *     osInfo: { value: string, count: number }[] } }} FleetAnswer
 */

/**
 * The filters of the fleet `section`; `changed` is called whenever the query changes.
 * @param {HTMLElement} section
 * @param {() => void} changed
 */
export function createFilters(section, changed) {
  const $ = (/** @type {string} */ id) => /** @type {any} */ (section.querySelector(id));
  const search = /** @type {HTMLInputElement} */ ($("#fleet-search"));
  const version = /** @type {HTMLSelectElement} */ ($("#fleet-version"));
  const os = /** @type {HTMLSelectElement} */ ($("#fleet-os"));
  const limit = /** @type {HTMLSelectElement} */ ($("#fleet-limit"));
  const counts = /** @type {HTMLElement} */ ($("#fleet-counts"));
  const prev = /** @type {HTMLButtonElement} */ ($("#page-prev"));
  const next = /** @type {HTMLButtonElement} */ ($("#page-next"));
  const where = /** @type {HTMLElement} */ ($("#page-where"));
  const headers = /** @type {HTMLElement[]} */ ([...section.querySelectorAll("th[data-sort]")]);

  const query = {
    q: "",
    state: "",
    duplicate: false,
    sort: "lastSeenAt",
    order: "desc",
    /** @type {string[]} the cursors of the pages before this one, then this one's */
    cursors: [],
    /** @type {string | null} */
    nextCursor: null,
  };

  /** Back to the first page, then poll at once. */
  const restart = () => {
    query.cursors = [];
    changed();
  };

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let typing;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      query.q = search.value.trim();
      restart();
    }, SEARCH_PAUSE_MS);
  });
  for (const select of [version, os, limit]) select.addEventListener("change", restart);

  const chips = ["all", ...STATES, "duplicate"].map((name) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = `chip chip-${name}`;
    chip.dataset.filter = name;
    chip.addEventListener("click", () => {
      query.duplicate = name === "duplicate";
      query.state = STATES.includes(name) ? name : "";
      restart();
    });
    return chip;
  });
  counts.replaceChildren(...chips);

  for (const th of headers) {
    const field = /** @type {string} */ (th.dataset.sort);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.append(...th.childNodes);
    th.replaceChildren(button);
    button.addEventListener("click", () => {
      const first = TIME_FIELDS[field] ?? "asc";
      query.order = query.sort === field ? (query.order === "asc" ? "desc" : "asc") : first;
      query.sort = field;
      restart();
    });
  }

  prev.addEventListener("click", () => {
    query.cursors.pop();
    changed();
  });
  next.addEventListener("click", () => {
    if (query.nextCursor === null) return;
    query.cursors.push(query.nextCursor);
    changed();
  });

  return {
    /** @returns {string} the query string of GET /console/api/fleet for this view */
    queryString() {
      const params = new URLSearchParams();
      if (query.q) params.set("q", query.q);
      if (query.state) params.set("state", query.state);
      if (query.duplicate) params.set("duplicate", "true");
      if (version.value) params.set("version", version.value);
      if (os.value) params.set("os", os.value);
      params.set("sort", query.sort);
      params.set("order", query.order);
      params.set("limit", limit.value);
      const cursor = query.cursors.at(-1);
      if (cursor !== undefined) params.set("cursor", cursor);
      return params.toString();
    },

    /** Shows only the sensors whose token more than one host uses. */
    showDuplicates() {
      query.duplicate = true;
      query.state = "";
      restart();
    },

    /**
     * Shows the answer's counts, facets and paging; `rows` is how many rows the page holds.
     * @param {FleetAnswer} answer
     * @param {number} rows
     * @param {string | null} asOf the time the counts are from, while the page is stale
     * @returns {string} which rows of how many the page shows
     */
    show(answer, rows, asOf) {
      query.nextCursor = answer.nextCursor;
      const total = STATES.reduce((sum, state) => sum + (answer.counts[state] ?? 0), 0);
      for (const chip of chips) {
        const name = /** @type {string} */ (chip.dataset.filter);
        const count = name === "all" ? total : answer.counts[name] ?? 0;
        const title = name === "all" ? "All" : name === "duplicate" ? "Duplicate token" : name;
        chip.textContent = `${title[0].toUpperCase()}${title.slice(1)} ${
          count.toLocaleString("en")
        }${asOf === null ? "" : ` (as of ${asOf})`}`;
        const pressed = name === "all"
          ? !query.state && !query.duplicate
          : name === "duplicate"
          ? query.duplicate
          : query.state === name;
        chip.setAttribute("aria-pressed", String(pressed));
        chip.hidden = name === "duplicate" && count === 0 && !query.duplicate;
      }
      fillFacet(version, answer.facets.agentVersion);
      fillFacet(os, answer.facets.osInfo);
      for (const th of headers) {
        const sorted = th.dataset.sort === query.sort;
        if (sorted) {
          th.setAttribute("aria-sort", query.order === "asc" ? "ascending" : "descending");
        } else th.removeAttribute("aria-sort");
      }
      const first = query.cursors.length * Number(limit.value);
      where.textContent = answer.total === 0
        ? "No sensor matches"
        : `${(first + 1).toLocaleString("en")}–${(first + rows).toLocaleString("en")} of ${
          plural(answer.total, "sensor")
        }`;
      prev.disabled = query.cursors.length === 0;
      next.disabled = answer.nextCursor === null;
      return where.textContent;
    },
  };
}

/**
 * The options of a facet's select: "any", then each value with its count; the choice is kept.
 * @param {HTMLSelectElement} select
 * @param {{ value: string, count: number }[]} facets
 */
function fillFacet(select, facets) {
  const chosen = select.value;
  const values = facets.map((facet) => facet.value);
  if (chosen && !values.includes(chosen)) values.push(chosen);
  const wanted = ["", ...values];
  const have = [...select.options].map((option) => option.value);
  const counts = new Map(facets.map((facet) => [facet.value, facet.count]));
  if (wanted.join("\n") === have.join("\n")) {
    for (const option of select.options) {
      if (option.value) option.textContent = `${option.value} (${counts.get(option.value) ?? 0})`;
    }
    return;
  }
  select.replaceChildren(...wanted.map((value) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = value ? `${value} (${counts.get(value) ?? 0})` : "any";
    return option;
  }));
  select.value = chosen;
}
