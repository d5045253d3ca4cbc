// reference-backend/console/session.ts: who is logged in to the console. Logging in (with the admin
// token, or a one-time code minted through the admin API) opens a session: a random id in an
// HttpOnly, SameSite=Strict cookie, Secure when the backend's public address is https, and a CSRF
// token the page sends back in a header with every state-changing request (guard.ts). The page's
// script never holds the admin token after the login request, so an injected script could not
// steal it. Sessions live in memory: a restart logs everyone out, which suits a reference backend.
import { digest, randomToken, sameSecret } from "../store/mod.ts";

/** The cookie's name; its Path is /console, so the admin API never sees it. */
export const COOKIE_NAME = "rx_console";
/** A session ends this long after login, used or not. */
export const SESSION_MS = 8 * 3600_000;
/** A one-time login code is good for this long, and once. */
export const LOGIN_CODE_MS = 10 * 60_000;
// Bounds the memory a flood of logins or code mints can take; the oldest entries go first.
const MAX_ENTRIES = 1000;

/** An open session: the CSRF token its page must echo, and when it ends. */
export interface Session {
  readonly csrfToken: string;
  readonly expiresAt: number;
}

/** The console's sessions and unspent one-time login codes, each kept only by its digest. */
export class Sessions {
  readonly #sessions = new Map<string, Session>();
  readonly #codes = new Map<string, number>();

  /** Opens a session; returns its id (for the cookie) and the session. */
  open(now: number): { id: string; session: Session } {
    const id = randomToken();
    const session = { csrfToken: randomToken(), expiresAt: now + SESSION_MS };
    remember(this.#sessions, digest(id), session, now, (s) => s.expiresAt);
    return { id, session };
  }

  /** The session the request's cookie names, if it is open. */
  find(request: Request, now: number): Session | undefined {
    const id = cookieValue(request.headers.get("cookie"), COOKIE_NAME);
    if (id === undefined) return undefined;
    const session = this.#sessions.get(digest(id));
    return session !== undefined && session.expiresAt > now ? session : undefined;
  }

  /** Ends the session the request's cookie names, if any. */
  close(request: Request): void {
    const id = cookieValue(request.headers.get("cookie"), COOKIE_NAME);
    if (id !== undefined) this.#sessions.delete(digest(id));
  }

  /** Mints a one-time login code, good once within LOGIN_CODE_MS. */
  mintCode(now: number): { code: string; expiresAt: number } {
    const code = oneTimeCode();
    const expiresAt = now + LOGIN_CODE_MS;
    remember(this.#codes, digest(normalCode(code)), expiresAt, now, (at) => at);
    return { code, expiresAt };
  }

  /** True, once, for an unexpired code this object minted. */
  spendCode(code: string, now: number): boolean {
    const key = digest(normalCode(code));
    const expiresAt = this.#codes.get(key);
    this.#codes.delete(key);
    return expiresAt !== undefined && expiresAt > now;
  }
}

/** True when `secret` is the admin token, compared in constant time. */
export function isAdminToken(secret: string, adminToken: string): boolean {
  return sameSecret(secret, adminToken);
}

/** The Set-Cookie value that carries a session id. */
export function sessionCookie(id: string, secure: boolean): string {
  return `${COOKIE_NAME}=${id}; Path=/console; HttpOnly; SameSite=Strict${
    secure ? "; Secure" : ""
  }`;
}

/** The Set-Cookie value that removes the session cookie. */
export function clearedCookie(secure: boolean): string {
  return `${COOKIE_NAME}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0${
    secure ? "; Secure" : ""
  }`;
}

/** The value of cookie `name` in a Cookie header, if present. */
export function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

// Crockford's base32 without I, L, O, U: a code read off a terminal and typed in a form.
const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** 20 random base32 characters (100 bits) in groups of five: XXXXX-XXXXX-XXXXX-XXXXX. */
export function oneTimeCode(): string {
  const chars = [...crypto.getRandomValues(new Uint8Array(20))].map((byte) =>
    CODE_ALPHABET[byte & 31]
  );
  return [0, 5, 10, 15].map((at) => chars.slice(at, at + 5).join("")).join("-");
}

/** A code as typed: any case, with or without the dashes and blanks. */
function normalCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "");
}

/** Stores `value`, first dropping expired entries and, past MAX_ENTRIES, the oldest. */
function remember<T>(
  map: Map<string, T>,
  key: string,
  value: T,
  now: number,
  expiry: (value: T) => number,
): void {
  for (const [old, entry] of map) if (expiry(entry) <= now) map.delete(old);
  while (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
  map.set(key, value);
}
