// reference-backend/console/static/api.js: the page's requests to /console/api/. The session is
// an HttpOnly cookie the script cannot read; what the script holds is the CSRF token, which it
// sends in X-CSRF-Token with every state-changing request (the backend refuses those without it).
// Every request gives up after REQUEST_TIMEOUT_MS: a backend that hangs counts as one that is down.

/**
 * @typedef {{ csrfToken: string, heartbeatIntervalSeconds: number,
 *   agentBinaryUrl: string | null }} SessionInfo
 */

const REQUEST_TIMEOUT_MS = 5000;

/** @type {SessionInfo | null} */
let session = null;
/** @type {() => void} */
let onLoggedOut = () => {};

/** A refused request: the backend's reason and the HTTP status (0: no answer at all). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Called when any request finds the session gone (401).
 * @param {() => void} callback
 */
export function whenLoggedOut(callback) {
  onLoggedOut = callback;
}

/** @returns {number} the heartbeat interval the backend hands to agents, in seconds */
export function heartbeatIntervalSeconds() {
  return session?.heartbeatIntervalSeconds ?? 30;
}

/** @returns {string | null} the agent binary's URL the install command downloads, if any */
export function agentBinaryUrl() {
  return session?.agentBinaryUrl ?? null;
}

/**
 * Asks whether this browser has a session (its cookie); true if so.
 * @returns {Promise<boolean>}
 */
export async function resume() {
  const response = await request("/console/api/session", {});
  if (response.status === 401) return false;
  session = (await reply(response)).data;
  return true;
}

/**
 * Logs in with the admin token or a one-time code. The secret goes in the body of one POST and is
 * not kept anywhere.
 * @param {string} secret
 */
export async function login(secret) {
  const response = await request("/console/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ secret }),
  });
  session = (await reply(response)).data;
}

/**
 * Ends the session on the backend (with `everywhere`, every session) and forgets the CSRF token.
 * @param {boolean} everywhere
 */
export async function logout(everywhere = false) {
  try {
    await change("/console/api/logout", { everywhere });
  } finally {
    session = null;
  }
}

/**
 * A state-changing request: POST with a JSON body and the CSRF token.
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<any>} the reply's data
 */
export async function change(path, body) {
  const response = await request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": session?.csrfToken ?? "" },
    body: JSON.stringify(body),
  });
  return (await reply(response)).data;
}

/**
 * A GET that sends the ETag of the last answer: null when nothing changed (304), else the data and
 * the new ETag, with the server's time from the Date header.
 * @param {string} path
 * @param {string | null} etag
 * @returns {Promise<{ data: any, etag: string | null, serverTime: number } | null>}
 */
export async function poll(path, etag) {
  /** @type {Record<string, string>} */
  const headers = etag === null ? {} : { "If-None-Match": etag };
  const response = await request(path, { headers });
  if (response.status === 304) return null;
  const { data } = await reply(response);
  const date = Date.parse(response.headers.get("date") ?? "");
  return {
    data,
    etag: response.headers.get("etag"),
    serverTime: Number.isNaN(date) ? Date.now() : date,
  };
}

/**
 * fetch, never cached, given up after REQUEST_TIMEOUT_MS; no answer at all is ApiError status 0.
 * @param {string} path
 * @param {RequestInit} init
 */
async function request(path, init) {
  try {
    return await fetch(path, {
      ...init,
      cache: "no-store",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    throw new ApiError(0, timedOut ? "the backend did not answer in time" : "no answer");
  }
}

/**
 * The parsed envelope of a reply, or an ApiError with the backend's reason.
 * @param {Response} response
 */
async function reply(response) {
  /** @type {any} */
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: reported below with the status
  }
  if (response.ok && body?.success === true) return body;
  if (response.status === 401 && session !== null) {
    session = null;
    onLoggedOut();
  }
  throw new ApiError(response.status, body?.error ?? `HTTP ${response.status}`);
}
