// reference-backend/console/static/chart.js: a small SVG line chart of a sensor's byte rates over
// its last beats, drawn here from the counters the backend keeps (no chart library). A rate is the
// counter's change over the time between two beats; a counter that went down (the host rebooted,
// a counter wrapped) gives no rate for that step: a gap, not a bogus spike.
import { rate } from "./text.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 320;
const HEIGHT = 120;
const PAD = { left: 4, right: 4, top: 18, bottom: 4 };

/** @typedef {{ at: number, bytesSent: number, bytesRecv: number }} Sample */

/**
 * The rates between consecutive samples, in bytes per second; null where a counter went down.
 * @param {Sample[]} samples oldest first
 * @returns {{ at: number, sent: number | null, recv: number | null }[]}
 */
export function rates(samples) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const [a, b] = [samples[i - 1], samples[i]];
    const seconds = (b.at - a.at) / 1000;
    if (seconds <= 0) continue;
    const per = (/** @type {number} */ from, /** @type {number} */ to) =>
      to >= from ? (to - from) / seconds : null;
    out.push({
      at: b.at,
      sent: per(a.bytesSent, b.bytesSent),
      recv: per(a.bytesRecv, b.bytesRecv),
    });
  }
  return out;
}

/**
 * The chart as an <svg> element, with a text summary for screen readers.
 * @param {Sample[]} samples
 * @returns {SVGSVGElement}
 */
export function rateChart(samples) {
  const points = rates(samples);
  const highest = Math.max(0, ...points.flatMap((p) => [p.sent ?? 0, p.recv ?? 0]));
  const peak = Math.max(1, highest); // a flat chart at 0 rather than a division by zero
  const svg = svgElement("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    class: "rate-chart",
    "aria-label": summary(points),
  });
  svg.append(
    svgElement("rect", {
      x: "0",
      y: "0",
      width: `${WIDTH}`,
      height: `${HEIGHT}`,
      class: "chart-bg",
    }),
  );
  const x = (/** @type {number} */ i) =>
    PAD.left + (points.length < 2 ? 0 : i * (WIDTH - PAD.left - PAD.right) / (points.length - 1));
  const y = (/** @type {number} */ value) =>
    HEIGHT - PAD.bottom - value / peak * (HEIGHT - PAD.top - PAD.bottom);
  for (
    const [key, className] of /** @type {const} */ ([["sent", "line-sent"], ["recv", "line-recv"]])
  ) {
    // One polyline per unbroken run of rates, so a counter reset shows as a gap.
    /** @type {string[]} */
    let run = [];
    const flush = () => {
      if (run.length > 0) {
        svg.append(svgElement("polyline", { points: run.join(" "), class: className }));
      }
      run = [];
    };
    points.forEach((point, i) => {
      const value = point[key];
      if (value === null) flush();
      else run.push(`${x(i).toFixed(1)},${y(value).toFixed(1)}`);
    });
    flush();
  }
  const label = svgElement("text", { x: `${PAD.left + 2}`, y: "13", class: "chart-label" });
  label.textContent = points.length === 0
    ? "a rate needs two beats: waiting"
    : highest === 0
    ? "no bytes counted (the agent sees no counters, or no traffic)"
    : `peak ${rate(highest)}`;
  svg.append(label);
  return svg;
}

/**
 * @param {{ sent: number | null, recv: number | null }[]} points
 * @returns {string}
 */
function summary(points) {
  if (points.length === 0) return "Byte rates: not enough beats yet.";
  const last = points[points.length - 1];
  const show = (/** @type {number | null} */ value) => value === null ? "reset" : rate(value);
  return `Byte rates over the last ${points.length} beat intervals; latest: sent ${
    show(last.sent)
  }, received ${show(last.recv)}.`;
}

/**
 * @param {string} tag
 * @param {Record<string, string>} attrs
 * @returns {any}
 */
function svgElement(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}
