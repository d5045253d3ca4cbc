// reference-backend/console/static/confirm.js: one confirmation dialog for every action that
// cannot be undone. It names what is acted on (a sensor, or how many) and what follows; Cancel has
// the focus, so Enter or Escape alone changes nothing.

/**
 * Asks the operator to confirm `action`; resolves true only when they press its button.
 * @param {{ title: string, what: string, effect: string, action: string }} text
 * @returns {Promise<boolean>}
 */
export function confirmAction(text) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById("confirm-dialog"));
  const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (dialog.querySelector(id));
  byId("#confirm-title").textContent = text.title;
  byId("#confirm-what").textContent = text.what;
  byId("#confirm-effect").textContent = text.effect;
  byId("#confirm-ok").textContent = text.action;
  dialog.returnValue = "";
  const answer = new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), {
      once: true,
    });
  });
  dialog.showModal();
  byId("#confirm-cancel").focus();
  return /** @type {Promise<boolean>} */ (answer);
}
