// bench/svg.ts: arrival histograms of the fleet simulation as one SVG, a panel per retry policy,
// drawn by hand (no charting library is reachable). Pure: a string from numbers.

/** One panel: its title, the arrivals per 1-second bin, and the rates worth a reference line. */
export interface HistogramPanel {
  readonly title: string;
  readonly arrivals: readonly number[];
  readonly steadyRatePerSecond: number;
  /** Seconds during which the backend was down (shaded). */
  readonly downSeconds: number;
}

const WIDTH = 900;
const PANEL_HEIGHT = 220;
const MARGIN = { left: 64, right: 16, top: 34, bottom: 34 };

/** An SVG document with the panels stacked, sharing the time axis. */
export function histogramSvg(panels: readonly HistogramPanel[], caption: string): string {
  const height = panels.length * PANEL_HEIGHT + 28;
  const parts = panels.map((panel, i) => drawPanel(panel, i * PANEL_HEIGHT + 28));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
    `viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="18" font-size="14" font-weight="bold">${escape(caption)}</text>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

function drawPanel(panel: HistogramPanel, top: number): string {
  const plotTop = top + MARGIN.top;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const bins = panel.arrivals.length;
  // The restart's own second (every agent's first attempt) would flatten the rest of the panel:
  // it is left out of the scale, drawn clipped, and labelled with its count.
  const peak = Math.max(...panel.arrivals.slice(1), 2 * panel.steadyRatePerSecond);
  const yMax = niceCeiling(peak);
  const x = (second: number) => MARGIN.left + (second / bins) * plotWidth;
  const y = (count: number) => plotTop + plotHeight - (Math.min(count, yMax) / yMax) * plotHeight;
  const clipped = panel.arrivals[0] > yMax
    ? `<text x="${fmt(x(0) + 4)}" y="${plotTop + 28}" fill="#2b6cb0">` +
      `${escape(panel.arrivals[0].toLocaleString("en-US"))} at second 0 (clipped)</text>`
    : "";
  // One path of vertical bars: cheaper to render than 720 rects and just as readable.
  const bars = panel.arrivals
    .map((count, second) =>
      count > 0 ? `M${fmt(x(second + 0.5))} ${fmt(y(0))}V${fmt(y(count))}` : ""
    )
    .join("");
  const barWidth = Math.max(1, plotWidth / bins);
  // Reference lines, named in a legend box in the plot's top-right corner (their own labels
  // would collide where the scale is large and the lines sit close together).
  const reference = (rate: number, color: string) =>
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${fmt(y(rate))}" ` +
    `y2="${fmt(y(rate))}" stroke="${color}" stroke-dasharray="5 4"/>`;
  const legendX = MARGIN.left + plotWidth - 250;
  const legendEntry = (row: number, label: string, color: string) =>
    `<line x1="${legendX + 8}" x2="${legendX + 30}" y1="${plotTop + 14 + row * 16}" ` +
    `y2="${plotTop + 14 + row * 16}" stroke="${color}" stroke-dasharray="5 4"/>` +
    `<text x="${legendX + 36}" y="${plotTop + 18 + row * 16}">${escape(label)}</text>`;
  const legend = [
    `<rect x="${legendX}" y="${plotTop + 4}" width="246" height="38" fill="#ffffff" ` +
    `fill-opacity="0.85" stroke="#cccccc"/>`,
    legendEntry(0, "steady mean (agents / interval)", "#2f855a"),
    legendEntry(1, "2 x steady mean (target ceiling)", "#c05621"),
  ].join("");
  const ticks: string[] = [];
  for (let second = 0; second <= bins; second += 60) {
    ticks.push(
      `<line x1="${fmt(x(second))}" x2="${fmt(x(second))}" y1="${plotTop + plotHeight}" ` +
        `y2="${plotTop + plotHeight + 4}" stroke="#333"/>` +
        `<text x="${fmt(x(second))}" y="${plotTop + plotHeight + 16}" text-anchor="middle">` +
        `${second}</text>`,
    );
  }
  return [
    `<g>`,
    `<text x="${MARGIN.left}" y="${top + 22}" font-weight="bold">${escape(panel.title)}</text>`,
    `<rect x="${MARGIN.left}" y="${plotTop}" width="${fmt(x(panel.downSeconds) - MARGIN.left)}" ` +
    `height="${plotHeight}" fill="#f3d6d6"/>`,
    `<text x="${fmt(x(panel.downSeconds / 2))}" y="${plotTop + 14}" text-anchor="middle" ` +
    `fill="#a33">backend down</text>`,
    `<path d="${bars}" stroke="#2b6cb0" stroke-width="${fmt(barWidth)}" fill="none"/>`,
    clipped,
    reference(panel.steadyRatePerSecond, "#2f855a"),
    reference(2 * panel.steadyRatePerSecond, "#c05621"),
    legend,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${plotTop + plotHeight}" ` +
    `y2="${plotTop + plotHeight}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${plotTop}" y2="${plotTop + plotHeight}" ` +
    `stroke="#333"/>`,
    `<text x="${MARGIN.left - 6}" y="${plotTop + 4}" text-anchor="end">${yMax}</text>`,
    `<text x="${MARGIN.left - 6}" y="${plotTop + plotHeight}" text-anchor="end">0</text>`,
    `<text x="14" y="${fmt(plotTop + plotHeight / 2)}" transform="rotate(-90 14 ` +
    `${fmt(plotTop + plotHeight / 2)})" text-anchor="middle">arrivals / s</text>`,
    ...ticks,
    `<text x="${MARGIN.left + plotWidth}" y="${plotTop + plotHeight + 30}" text-anchor="end">` +
    `seconds since the restart</text>`,
    `</g>`,
  ].join("\n");
}

/** 1, 2 or 5 times a power of ten, at least `value`: a y-axis top a reader can take in. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(value, 1)));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

function fmt(n: number): string {
  return n.toFixed(1).replace(/\.0$/, "");
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
