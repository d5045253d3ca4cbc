// reference-backend/console/static/facts.js: what the detail panel says of a sensor: its facts,
// its credential (token age, last rotation, a rotation asked or under way, and a duplicate token's
// hosts, loudly), and its interfaces.
import { stateCell, tokenAge } from "./row.js";
import { ago, duration, element, sensorText } from "./text.js";

/**
 * The sensor's facts as a definition list, ages at `now` (server time, ms); its state "unknown"
 * while the page is stale.
 * @param {any} sensor
 * @param {number | null} staleAt
 * @param {number} now
 */
export function facts(sensor, staleAt, now) {
  /** @type {[string, Node | string][]} */
  const pairs = [
    ["State", stateCell(sensor, staleAt)],
    ["Hostname", sensorText(sensor.hostname)],
    ["Label", sensorText(sensor.label)],
    ["IP", sensorText(sensor.sensorIp)],
    ["OS", sensorText(sensor.osInfo)],
    ["Architecture", sensorText(sensor.architecture)],
    ["Agent", sensorText(sensor.agentVersion)],
    ["Heartbeats", String(sensor.heartbeats)],
    ["Uptime", sensor.uptimeSeconds === null ? "—" : duration(sensor.uptimeSeconds)],
    ["Enrolled", new Date(sensor.enrolledAt).toLocaleString()],
    ["Last beat", new Date(sensor.lastSeenAt).toLocaleString()],
    ["Revoked", sensor.revokedAt === null ? "no" : new Date(sensor.revokedAt).toLocaleString()],
    ["Sensor id", element("code", {}, sensor.id)],
    ["Token age", tokenAge(sensor, now)],
    ["Token issued", new Date(sensor.tokenIssuedAt).toLocaleString()],
    [
      "Last rotation",
      sensor.lastRotatedAt ? new Date(sensor.lastRotatedAt).toLocaleString() : "never",
    ],
    ["Rotation", rotation(sensor)],
  ];
  return list(pairs);
}

/**
 * Where the token's rotation stands.
 * @param {any} sensor
 */
function rotation(sensor) {
  if (sensor.state === "revoked") return "none: the sensor is revoked";
  if (sensor.rotationPending) return "a new token was issued; the old one works until it is used";
  if (sensor.rotationRequested) return "asked: the agent rotates at its next heartbeat";
  return "none asked";
}

/**
 * A duplicate token's warning and the hosts seen with it, ages at `now` (server time, ms);
 * nothing for a sensor without one.
 * @param {any} sensor
 * @param {number} now
 * @returns {HTMLElement[]}
 */
export function credentialFacts(sensor, now) {
  const duplicate = sensor.duplicate;
  if (duplicate === null) return [];
  const headers = ["Binding", "Hostname", "IP", "Last beat"];
  return [
    element(
      "div",
      { className: "duplicate-box", attrs: { role: "note" } },
      element("h3", {}, `Duplicate token: ${duplicate.bindings} hosts beat with it`),
      element(
        "p",
        {},
        `Since ${new Date(duplicate.firstSeenAt).toLocaleString()} more than one machine sends ` +
          "this sensor's token: a cloned VM or a copied env file. Rotate it: the first host to " +
          "use the new token keeps the sensor, the others are refused (their agents stop, exit " +
          "77). To choose which host keeps it, stop the agent on the others first. Then enroll " +
          "each copy with an install token of its own.",
      ),
      element(
        "table",
        { className: "seen" },
        element(
          "thead",
          {},
          element("tr", {}, ...headers.map((h) => element("th", { attrs: { scope: "col" } }, h))),
        ),
        element(
          "tbody",
          {},
          .../** @type {any[]} */ (duplicate.seen).map((seen) =>
            element(
              "tr",
              {},
              element(
                "td",
                { attrs: { "data-label": "Binding" } },
                element("code", {}, seen.binding),
              ),
              element(
                "th",
                { attrs: { scope: "row", "data-label": "Hostname" } },
                seen.hostname === ""
                  ? element("span", { className: "muted" }, "(asked for a token only)")
                  : sensorText(seen.hostname),
              ),
              element("td", { attrs: { "data-label": "IP" } }, sensorText(seen.sensorIp)),
              element(
                "td",
                {
                  attrs: {
                    "data-label": "Last beat",
                    title: new Date(seen.lastSeenAt).toLocaleString(),
                  },
                },
                ago(now - Date.parse(seen.lastSeenAt)),
              ),
            )
          ),
        ),
      ),
    ),
  ];
}

/** @param {any[]} interfaces */
export function interfaceTable(interfaces) {
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

/** @param {[string, Node | string][]} pairs */
function list(pairs) {
  return element(
    "dl",
    { className: "facts" },
    ...pairs.flatMap(([term, value]) => [element("dt", {}, term), element("dd", {}, value)]),
  );
}
