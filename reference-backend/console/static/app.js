// reference-backend/console/static/app.js: the console's entry point. Shows the login form until
// there is a session, then the mint form, the live fleet and the detail panel; revoking asks first.
import { ApiError, change, login, logout, resume, whenLoggedOut } from "./api.js";
import { createDetail } from "./detail.js";
import { createFleet } from "./fleet.js";
import { setUpMinting } from "./mint.js";
import { visible } from "./text.js";

/**
 * @param {string} id
 * @returns {any}
 */
const byId = (id) => document.getElementById(id);

const status = /** @type {HTMLElement} */ (byId("status"));
const loginSection = /** @type {HTMLElement} */ (byId("login"));
const loginForm = /** @type {HTMLFormElement} */ (byId("login-form"));
const secretField = /** @type {HTMLInputElement} */ (byId("secret"));
const loginError = /** @type {HTMLElement} */ (byId("login-error"));
const app = /** @type {HTMLElement} */ (byId("app"));
const logoutButton = /** @type {HTMLButtonElement} */ (byId("logout"));
const revokeDialog = /** @type {HTMLDialogElement} */ (byId("revoke-dialog"));
const revokeWhat = /** @type {HTMLElement} */ (byId("revoke-what"));

/** @param {string} message */
const say = (message) => status.textContent = message;

const detail = createDetail(/** @type {HTMLElement} */ (byId("detail")), say);
const fleet = createFleet(/** @type {HTMLElement} */ (byId("fleet")), {
  onDetail: (row) => detail.show(row.id),
  onRevoke: (row) => confirmRevoke(row),
  onChange: () => void detail.refresh(),
  say,
});
setUpMinting(/** @type {HTMLElement} */ (byId("mint")), say);

/** @param {boolean} loggedIn */
function showApp(loggedIn) {
  loginSection.hidden = loggedIn;
  app.hidden = !loggedIn;
  logoutButton.hidden = !loggedIn;
  if (loggedIn) {
    fleet.start();
  } else {
    fleet.stop();
    detail.hide();
    secretField.focus();
  }
}

loginForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  loginError.textContent = "";
  const secret = secretField.value;
  // The field is emptied at once: the secret stays in no input, attribute or variable of the page.
  secretField.value = "";
  try {
    await login(secret);
    say("Logged in.");
    showApp(true);
  } catch (error) {
    loginError.textContent = error instanceof ApiError && error.status === 401
      ? "Not accepted: check the admin token or ask for a new one-time code."
      : `Login failed: ${/** @type {Error} */ (error).message}`;
    secretField.focus();
  }
});

logoutButton.addEventListener("click", async () => {
  try {
    await logout();
  } catch {
    // The session is gone either way.
  }
  say("Logged out.");
  showApp(false);
});

whenLoggedOut(() => {
  say("The session ended: log in again.");
  showApp(false);
});

/** @type {import("./fleet.js").Row | null} */
let revoking = null;

/** @param {import("./fleet.js").Row} row */
function confirmRevoke(row) {
  revoking = row;
  revokeWhat.textContent = `${visible(row.label)} on ${visible(row.hostname)} (${
    visible(row.sensorIp)
  })`;
  revokeDialog.returnValue = "";
  revokeDialog.showModal();
  /** @type {HTMLButtonElement} */ (byId("revoke-cancel")).focus();
}

revokeDialog.addEventListener("close", async () => {
  const row = revoking;
  revoking = null;
  if (revokeDialog.returnValue !== "revoke" || row === null) return;
  try {
    await change(`/console/api/sensors/${row.id}/revoke`, {});
    say(`Revoked ${visible(row.label ?? row.hostname)}: its agent stops at its next heartbeat.`);
    await fleet.refresh();
  } catch (error) {
    say(`Revoking failed: ${/** @type {Error} */ (error).message}`);
  }
});

showApp(await resume().catch(() => false));
