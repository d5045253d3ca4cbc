// reference-backend/console/static/detail.js: one sensor in detail: its facts, its interfaces and
// the chart of its byte rates, refreshed with the fleet while it is open.
import { poll } from "./api.js";
import { rateChart } from "./chart.js";
import { element, sensorText } from "./text.js";

/**
 * The detail panel in `section`: show(id) opens it, refresh() follows the fleet's polls.
 * @param {HTMLElement} section
 * @param {(message: string) => void} say
 */
export function createDetail(section, say) {
  const heading = /** @type {HTMLElement} */ (section.querySelector("#detail-title"));
  const content = /** @type {HTMLElement} */ (section.querySelector("#detail-content"));
  const close = /** @type {HTMLButtonElement} */ (section.querySelector("#detail-close"));
  /** @type {string | null} */
  let shown = null;
  /** @type {string | null} */
  let etag = null;
  /** @type {HTMLElement | null} */
  let opener = null;

  const refresh = async () => {
    if (shown === null) return;
    try {
      const answer = await poll(`/console/api/sensors/${shown}`, etag);
      if (answer === null || shown === null) return;
      etag = answer.etag;
      draw(answer.data);
    } catch (error) {
      say(`Cannot load the sensor: ${/** @type {Error} */ (error).message}`);
    }
  };

  /** @param {any} data */
  const draw = (data) => {
    const { sensor, interfaces, counters } = data;
    heading.replaceChildren("Sensor ", sensorText(sensor.label ?? sensor.hostname));
    content.replaceChildren(
      facts(sensor),
      element("h3", {}, "Byte rates over the last beats"),
      element(
        "p",
        { className: "legend" },
        element("span", { className: "key key-sent" }, "sent"),
        " ",
        element("span", { className: "key key-recv" }, "received"),
        ` (all interfaces but loopback; the last ${counters.length} ${
          counters.length === 1 ? "beat" : "beats"
        })`,
      ),
      rateChart(counters),
      element("h3", {}, `Interfaces (${interfaces.length})`),
      interfaceTable(interfaces),
    );
  };

  close.addEventListener("click", () => {
    shown = null;
    section.hidden = true;
    opener?.focus();
  });

  return {
    /** @param {string} id */
    show(id) {
      opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      shown = id;
      etag = null;
      section.hidden = false;
      content.replaceChildren(element("p", {}, "Loading…"));
      void refresh().then(() => heading.focus());
    },
    hide() {
      shown = null;
      section.hidden = true;
    },
    refresh,
  };
}

/** @param {any} sensor */
function facts(sensor) {
  /** @type {[string, Node | string][]} */
  const pairs = [
    ["State", element("span", { className: `state state-${sensor.state}` }, sensor.state)],
    ["Hostname", sensorText(sensor.hostname)],
    ["Label", sensorText(sensor.label)],
    ["IP", sensorText(sensor.sensorIp)],
    ["OS", sensorText(sensor.osInfo)],
    ["Architecture", sensorText(sensor.architecture)],
    ["Agent", sensorText(sensor.agentVersion)],
    ["Heartbeats", String(sensor.heartbeats)],
    ["Uptime", sensor.uptimeSeconds === null ? "—" : `${sensor.uptimeSeconds} s`],
    ["Enrolled", new Date(sensor.enrolledAt).toLocaleString()],
    ["Last beat", new Date(sensor.lastSeenAt).toLocaleString()],
    ["Revoked", sensor.revokedAt === null ? "no" : new Date(sensor.revokedAt).toLocaleString()],
    ["Sensor id", element("code", {}, sensor.id)],
  ];
  return element(
    "dl",
    { className: "facts" },
    ...pairs.flatMap(([term, value]) => [element("dt", {}, term), element("dd", {}, value)]),
  );
}

/** @param {any[]} interfaces */
function interfaceTable(interfaces) {
  const flags = (/** @type {any} */ nic) =>
    ["isUp", "isManagement", "isLoopback", "isVirtual", "isWireless"]
      .filter((flag) => nic[flag])
      .map((flag) => flag.slice(2).toLowerCase())
      .join(", ") || "down";
  const headers = ["Name", "Flags", "Bytes sent", "Bytes received"];
  return element(
    "table",
    { className: "interfaces" },
    element(
      "thead",
      {},
      element("tr", {}, ...headers.map((h) => element("th", { attrs: { scope: "col" } }, h))),
    ),
    element(
      "tbody",
      {},
      ...interfaces.map((nic) =>
        element(
          "tr",
          {},
          element("th", { attrs: { scope: "row", "data-label": "Name" } }, sensorText(nic.name)),
          element("td", { attrs: { "data-label": "Flags" } }, flags(nic)),
          element("td", { attrs: { "data-label": "Bytes sent" } }, nic.bytesSent.toLocaleString()),
          element(
            "td",
            { attrs: { "data-label": "Bytes received" } },
            nic.bytesRecv.toLocaleString(),
          ),
        )
      ),
    ),
  );
}
