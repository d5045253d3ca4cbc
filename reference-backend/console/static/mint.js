// reference-backend/console/static/mint.js: "New install token". The reply holds the install
// token: the page shows it and the install command once, with copy buttons, until the operator
// presses Done; then both leave the page (the DOM and this module's variables) and only the
// token's fingerprint stays in "Minted this session".
import { change } from "./api.js";
import { element } from "./text.js";

/**
 * Wires the mint form in `section` and its one-time panel.
 * @param {HTMLElement} section
 * @param {(message: string) => void} say
 */
export function setUpMinting(section, say) {
  const form = /** @type {HTMLFormElement} */ (section.querySelector("#mint-form"));
  const note = /** @type {HTMLInputElement} */ (section.querySelector("#mint-note"));
  const ttl = /** @type {HTMLSelectElement} */ (section.querySelector("#mint-ttl"));
  const once = /** @type {HTMLElement} */ (section.querySelector("#minted-once"));
  const list = /** @type {HTMLUListElement} */ (section.querySelector("#minted-list"));
  const submit = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const body = {
        ttlSeconds: Number(ttl.value),
        ...(note.value.trim() ? { note: note.value.trim() } : {}),
      };
      const minted = await change("/console/api/install-tokens", body);
      showOnce(once, minted, () => {
        list.prepend(mintedItem(minted));
        submit.disabled = false;
        say(`Install token sha256:${minted.fingerprint} put away; only its fingerprint remains.`);
        submit.focus();
      });
      form.reset();
      say("Install token minted: copy the command and the token now, they are shown once.");
    } catch (error) {
      submit.disabled = false;
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
  panel.replaceChildren(
    element("h3", {}, "Copy these now"),
    element(
      "p",
      {},
      `They are shown once. The token expires ${new Date(minted.expiresAt).toLocaleString()}.`,
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

/**
 * One line of "Minted this session": fingerprint, label and expiry, never the token.
 * @param {{ fingerprint: string, note: string | null, expiresAt: string }} minted
 */
function mintedItem(minted) {
  return element(
    "li",
    {},
    element("code", {}, `sha256:${minted.fingerprint}`),
    ` ${minted.note ? `“${minted.note}”, ` : ""}expires ${
      new Date(minted.expiresAt).toLocaleString()
    }`,
  );
}
