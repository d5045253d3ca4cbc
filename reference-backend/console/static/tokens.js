// reference-backend/console/static/tokens.js: the install tokens view: minting (mint.js) and every
// token still kept, by fingerprint, with its label, expiry and state; an unused one can be
// cancelled, after a confirmation, so that it enrolls nothing.
import { change, poll } from "./api.js";
import { confirmAction } from "./confirm.js";
import { setUpMinting } from "./mint.js";
import { setEnabled } from "./stale.js";
import { element, sensorText } from "./text.js";

// Rows shown at most: the unused tokens come first, and a busy fleet spends many in 10 minutes.
const SHOWN = 200;

/**
 * The install tokens view in `section`: refresh() loads the list.
 * @param {HTMLElement} section
 * @param {(message: string) => void} say
 */
export function createTokens(section, say) {
  const body = /** @type {HTMLTableSectionElement} */ (section.querySelector("#tokens-rows"));
  const empty = /** @type {HTMLElement} */ (section.querySelector("#tokens-empty"));
  const more = /** @type {HTMLElement} */ (section.querySelector("#tokens-more"));
  /** @type {string | null} */
  let etag = null;

  const refresh = async () => {
    try {
      const answer = await poll("/console/api/install-tokens", etag);
      if (answer === null) return;
      etag = answer.etag;
      const tokens = /** @type {any[]} */ (answer.data.installTokens);
      body.replaceChildren(...tokens.slice(0, SHOWN).map((token) => tokenRow(token, cancel)));
      empty.hidden = tokens.length > 0;
      more.hidden = tokens.length <= SHOWN;
      more.textContent = `and ${tokens.length - SHOWN} more, used in the last 10 minutes`;
    } catch (error) {
      say(`Cannot list the install tokens: ${/** @type {Error} */ (error).message}`);
    }
  };

  /** @param {any} token */
  const cancel = async (token) => {
    const ok = await confirmAction({
      title: "Cancel this install token?",
      what: `sha256:${token.fingerprint}${token.label ? `, label “${token.label}”` : ""}.`,
      effect: "No sensor can enroll with it any more; a host whose install is under way with it " +
        "needs a new one.",
      action: "Cancel the token",
    });
    if (!ok) return;
    try {
      await change(`/console/api/install-tokens/${token.fingerprint}/cancel`, {});
      say(`Install token sha256:${token.fingerprint} cancelled.`);
    } catch (error) {
      say(`Cancelling failed: ${/** @type {Error} */ (error).message}`);
    }
    etag = null;
    await refresh();
  };

  setUpMinting(section, say, () => {
    etag = null;
    void refresh();
  });
  return { refresh };
}

/**
 * One token's row: fingerprint, label, times, state, and Cancel while it is unused.
 * @param {any} token
 * @param {(token: any) => void} cancel
 */
function tokenRow(token, cancel) {
  const time = (/** @type {string} */ iso) =>
    element("time", { attrs: { datetime: iso } }, new Date(iso).toLocaleString());
  const button = element(
    "button",
    {
      className: "danger cancel",
      attrs: {
        type: "button",
        "data-needs-backend": "",
        "aria-label": `Cancel install token sha256:${token.fingerprint}`,
      },
    },
    "Cancel",
  );
  setEnabled(button, token.state === "unused");
  button.hidden = token.state !== "unused";
  button.addEventListener("click", () => cancel(token));
  const state = token.state === "used"
    ? `used ${new Date(token.usedAt).toLocaleString()}`
    : token.state;
  return element(
    "tr",
    { attrs: { "data-fingerprint": token.fingerprint } },
    element(
      "th",
      { attrs: { scope: "row", "data-label": "Fingerprint" } },
      element("code", {}, `sha256:${token.fingerprint}`),
    ),
    element("td", { attrs: { "data-label": "Label" } }, sensorText(token.label ?? token.note)),
    element("td", { attrs: { "data-label": "Minted" } }, time(token.createdAt)),
    element("td", { attrs: { "data-label": "Expires" } }, time(token.expiresAt)),
    element(
      "td",
      { attrs: { "data-label": "State" } },
      element("span", { className: `token-${token.state}` }, state),
    ),
    element("td", { attrs: { "data-label": "Actions" } }, button),
  );
}
