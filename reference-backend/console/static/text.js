// reference-backend/console/static/text.js: putting sensor-supplied text on the page inert. Text
// only ever goes in through textContent (never as HTML), so `<script>` is just characters; and the
// characters that would hide or reorder what the operator reads are written out as escapes, the
// way reference-backend/api/display.ts writes them in the backend's log: controls (Cc), format
// characters such as the bidi overrides and isolates and zero-width marks (Cf), line and paragraph
// separators (Zl, Zp) and lone surrogates (Cs) become `\uXXXX`, and `\` becomes `\\`, so an escape
// cannot be faked.

const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/gu;

/**
 * `text` with every unsafe character escaped, e.g. U+202E (right-to-left override) as `\u202E`.
 * Null, undefined and "" become an em dash.
 * @param {string | null | undefined} text
 * @returns {string}
 */
export function visible(text) {
  if (text === null || text === undefined || text === "") return "—";
  return String(text).replace(UNSAFE, (char) => {
    if (char === "\\") return "\\\\";
    const code = /** @type {number} */ (char.codePointAt(0));
    const hex = code.toString(16).toUpperCase();
    return code > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, "0")}`;
  });
}

/**
 * A new element with `className` (if any) and children: strings become text nodes, never HTML.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {{ className?: string, attrs?: Record<string, string> }} [options]
 * @param {(Node | string)[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function element(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  for (const [name, value] of Object.entries(options.attrs ?? {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * A span holding sensor-supplied `text`, made visible and isolated from the text around it, with
 * the class that keeps long names wrapping instead of widening the table.
 * @param {string | null | undefined} text
 * @returns {HTMLSpanElement}
 */
export function sensorText(text) {
  return element("span", { className: "sensor-text" }, visible(text));
}

/**
 * "12 s ago", "5 min ago", "3 h ago" or "2 d ago" for an age in milliseconds.
 * @param {number} ms
 * @returns {string}
 */
export function ago(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/**
 * A byte rate as text: "0 B/s", "1.5 kB/s", "12 MB/s".
 * @param {number} bytesPerSecond
 * @returns {string}
 */
export function rate(bytesPerSecond) {
  const units = ["B/s", "kB/s", "MB/s", "GB/s", "TB/s"];
  let value = bytesPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * A length of time in the largest unit that fits: "40 s", "12 min", "5 h", "90 d".
 * @param {number} seconds
 * @returns {string}
 */
export function duration(seconds) {
  if (seconds < 120) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

/**
 * A time of day, to the second, in the operator's locale.
 * @param {number} ms since the epoch
 * @returns {string}
 */
export function clock(ms) {
  return new Date(ms).toLocaleTimeString();
}

/**
 * A count with its noun: "1 sensor", "2,000 sensors".
 * @param {number} count
 * @param {string} noun
 * @returns {string}
 */
export function plural(count, noun) {
  return `${count.toLocaleString("en")} ${noun}${count === 1 ? "" : "s"}`;
}
