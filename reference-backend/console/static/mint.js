// reference-backend/console/static/mint.js: "Mint install token". The label becomes the sensor's
// SENSOR_ID in the install command. The reply holds the install token: the page shows it and the
// install command once, with copy buttons, until the operator presses Done; then both leave the
// page (the DOM and this module's variables) and only the token's fingerprint stays, in the list
// of install tokens. When the backend names no agent binary, the panel says what to copy first.
import { agentBinaryUrl, change } from "./api.js";
import { setEnabled } from "./stale.js";
import { element } from "./text.js";

/**
 * Wires the mint form in `section` and its one-time panel; `minted` is told of each new token.
 * @param {HTMLElement} section
 * @param {(message: string) => void} say
 * @param {() => void} minted
 */
export function setUpMinting(section, say, minted) {
  const form = /** @type {HTMLFormElement} */ (section.querySelector("#mint-form"));
  const label = /** @type {HTMLInputElement} */ (section.querySelector("#mint-label"));
  const ttl = /** @type {HTMLSelectElement} */ (section.querySelector("#mint-ttl"));
  const once = /** @type {HTMLElement} */ (section.querySelector("#minted-once"));
  const submit = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setEnabled(submit, false);
    try {
      const body = {
        ttlSeconds: Number(ttl.value),
        ...(label.value.trim() ? { label: label.value.trim() } : {}),
      };
      const token = await change("/console/api/install-tokens", body);
      showOnce(once, token, () => {
        setEnabled(submit, true);
        say(`Install token sha256:${token.fingerprint} put away; only its fingerprint remains.`);
        submit.focus();
      });
      form.reset();
      minted();
      say("Install token minted: copy the command and the token now, they are shown once.");
    } catch (error) {
      setEnabled(submit, true);
      say(`Minting failed: ${/** @type {Error} */ (error).message}`);
    }
  });
}

/**
 * Fills `panel` with the command and the token, and empties it again when Done is pressed.
 * @param {HTMLElement} panel
 * @param {{ installToken: string, installCommand: string, fingerprint: string, expiresAt: string }} minted
 * @param {() => void} done
 */
function showOnce(panel, minted, done) {
  const command = copyable(
    "install-command",
    "Install command (run it on the sensor host)",
    minted.installCommand,
  );
  const token = copyable(
    "install-token",
    "Install token (install.sh asks for it; shown once)",
    minted.installToken,
  );
  const finish = element(
    "button",
    { attrs: { type: "button", id: "minted-done" } },
    "Done: I copied them",
  );
  const binary = agentBinaryUrl();
  panel.replaceChildren(
    element("h3", {}, "Copy these now"),
    element(
      "p",
      {},
      `They are shown once. The token expires ${new Date(minted.expiresAt).toLocaleString()}.`,
    ),
    binary === null
      ? element(
        "p",
        { className: "warning", attrs: { id: "binary-advice" } },
        "This backend names no agent binary (AGENT_BINARY_URL is not set), so the command " +
          "installs ./sensor-agent from the directory it runs in. Copy the agent binary there " +
          "first: build it with `deno task compile` (it is dist/sensor-agent) and copy it to the " +
          "host. Or set AGENT_BINARY_URL and AGENT_BINARY_SHA256 on the backend, restart it, and " +
          "mint again: the command then downloads and checks the binary itself.",
      )
      : element(
        "p",
        { attrs: { id: "binary-advice" } },
        `The command downloads the agent binary from ${binary} and checks its SHA-256.`,
      ),
    command,
    token,
    finish,
  );
  panel.hidden = false;
  // The token leaves this closure's reach with the panel's nodes: nothing else keeps it.
  minted.installToken = "";
  finish.addEventListener("click", () => {
    panel.replaceChildren();
    panel.hidden = true;
    done();
  }, { once: true });
  /** @type {HTMLElement} */ (command.querySelector("button")).focus();
}

/**
 * A labelled read-only field with a Copy button.
 * @param {string} id
 * @param {string} label
 * @param {string} value
 */
function copyable(id, label, value) {
  const field = element("textarea", {
    attrs: { id, readonly: "", rows: "3", spellcheck: "false", autocomplete: "off" },
  });
  field.value = value;
  const status = element("span", { className: "copy-status", attrs: { "aria-live": "polite" } });
  const button = element("button", { attrs: { type: "button", id: `${id}-copy` } }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Copied.";
    } catch {
      // No clipboard access (an http:// page on another host): select it for Ctrl+C instead.
      field.select();
      status.textContent = "Selected: press Ctrl+C.";
    }
  });
  return element(
    "div",
    { className: "copyable" },
    element("label", { attrs: { for: id } }, label),
    field,
    element("div", { className: "copy-row" }, button, status),
  );
}
