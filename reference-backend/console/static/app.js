// reference-backend/console/static/app.js: the console's entry point. Shows the login form until
// there is a session, then three views (the fleet, install tokens, the audit trail), chosen by the
// address's #fragment, with the sensor's detail panel beside the fleet. The fleet's poll runs
// while logged in, whatever the view: it is what tells the page that the backend stopped
// answering, and that it answers again.
import { ApiError, login, logout, resume, whenLoggedOut } from "./api.js";
import { createAudit } from "./audit.js";
import { createDetail } from "./detail.js";
import { createFleet } from "./fleet.js";
import { createTokens } from "./tokens.js";

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
const nav = /** @type {HTMLElement} */ (byId("nav"));
const sessionActions = /** @type {HTMLElement} */ (byId("session-actions"));
const VIEWS = ["fleet", "tokens", "audit"];

/** @param {string} message */
const say = (message) => status.textContent = message;

/** @type {HTMLElement} */ (byId("code-command")).textContent =
  `curl -s -X POST -H "Authorization: Bearer $ADMIN_TOKEN" ${location.origin}/console/api/login-codes`;

const detail = createDetail(/** @type {HTMLElement} */ (byId("detail")), {
  say,
  changed: () => void fleet.refresh(),
});
const fleet = createFleet(/** @type {HTMLElement} */ (byId("view-fleet")), {
  onOpen: (row) => detail.show(row.id),
  onPoll: () => void detail.refresh(),
  say,
});
const tokens = createTokens(/** @type {HTMLElement} */ (byId("view-tokens")), say);
const audit = createAudit(/** @type {HTMLElement} */ (byId("view-audit")), say);

let loggedIn = false;

/** Shows the view the address names (the fleet by default); other fragments (#content) stay. */
function showView() {
  const named = location.hash.slice(1);
  if (!loggedIn || (named !== "" && !VIEWS.includes(named))) return;
  const view = named === "" ? "fleet" : named;
  for (const name of VIEWS) {
    /** @type {HTMLElement} */ (byId(`view-${name}`)).hidden = name !== view;
  }
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (view !== "fleet") detail.hide();
  if (view === "tokens") void tokens.refresh();
  if (view === "audit") void audit.refresh();
}
addEventListener("hashchange", showView);

/** @param {boolean} now */
function showApp(now) {
  loggedIn = now;
  loginSection.hidden = now;
  nav.hidden = !now;
  sessionActions.hidden = !now;
  if (now) {
    fleet.start();
    showView();
  } else {
    fleet.stop();
    detail.hide();
    for (const name of VIEWS) /** @type {HTMLElement} */ (byId(`view-${name}`)).hidden = true;
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
      ? "Not accepted: check the admin token or ask for a new one-time code (below)."
      : `Login failed: ${/** @type {Error} */ (error).message}`;
    secretField.focus();
  }
});

/** @param {boolean} everywhere */
async function leave(everywhere) {
  try {
    await logout(everywhere);
    say(everywhere ? "Logged out everywhere: every session has ended." : "Logged out.");
  } catch (error) {
    say(`Logging out failed: ${/** @type {Error} */ (error).message}`);
  }
  showApp(false);
}
/** @type {HTMLElement} */ (byId("logout")).addEventListener("click", () => void leave(false));
/** @type {HTMLElement} */ (byId("logout-everywhere")).addEventListener(
  "click",
  () => void leave(true),
);

whenLoggedOut(() => {
  say("The session ended: log in again.");
  showApp(false);
});

showApp(await resume().catch(() => false));
