// reference-backend/console/session.ts: who is logged in to the console. Logging in (with the admin
// token, or a one-time code minted through the admin API) opens a session: a random id in an
// HttpOnly, SameSite=Strict cookie, Secure when the backend's public address is https, and a CSRF
// token the page sends back in a header with every state-changing request (guard.ts). The page's
// script never holds the admin token after the login request, so an injected script could not
// steal it. Sessions are kept in the store by the digest of their id (store/sessions.ts), so a
// restart of the backend logs nobody out; the CSRF token is derived from the id, so the store
// holds nothing that opens a session or forges a change.
import { digest, randomToken, sameSecret, type SessionRecords } from "../store/mod.ts";

/** The cookie's name; its Path is /console, so the admin API never sees it. */
export const COOKIE_NAME = "rx_console";
/** A session ends this long after login, used or not. */
export const SESSION_MS = 8 * 3600_000;
/** A one-time login code is good for this long, and once. */
export const LOGIN_CODE_MS = 10 * 60_000;

/** An open session: the CSRF token its page must echo, when it ends, and how it is named. */
export interface Session {
  readonly csrfToken: string;
  readonly expiresAt: number;
  /** The store's key: the SHA-256 of the id. */
  readonly key: string;
  /** How the audit trail names the session: the first 12 hex digits of that digest. */
  readonly fingerprint: string;
}

/** The console's sessions and unspent one-time login codes, kept in the store. */
export class Sessions {
  constructor(private readonly records: SessionRecords) {}

  /** Opens a session; returns its id (for the cookie) and the session. */
  async open(now: number): Promise<{ id: string; session: Session }> {
    const id = randomToken();
    const expiresAt = now + SESSION_MS;
    await this.records.open(digest(id), { createdAt: now, expiresAt }, now);
    return { id, session: sessionOf(id, expiresAt) };
  }

  /** The session the request's cookie names, if it is open. */
  async find(request: Request, now: number): Promise<Session | undefined> {
    const id = cookieValue(request.headers.get("cookie"), COOKIE_NAME);
    if (id === undefined || id === "") return undefined;
    const record = await this.records.find(digest(id), now);
    return record === undefined ? undefined : sessionOf(id, record.expiresAt);
  }

  /** Ends `session`. */
  async close(session: Session): Promise<void> {
    await this.records.close(session.key);
  }

  /** Ends every session of every browser; returns how many were open. */
  closeAll(): Promise<number> {
    return this.records.closeAll();
  }

  /** Mints a one-time login code, good once within LOGIN_CODE_MS. */
  async mintCode(now: number): Promise<{ code: string; expiresAt: number }> {
    const code = oneTimeCode();
    const expiresAt = now + LOGIN_CODE_MS;
    await this.records.addCode(digest(normalCode(code)), expiresAt, now);
    return { code, expiresAt };
  }

  /** True, once, for an unexpired code minted here (before a restart too). */
  spendCode(code: string, now: number): Promise<boolean> {
    return this.records.spendCode(digest(normalCode(code)), now);
  }
}

/** The session of cookie id `id`: its CSRF token is a digest of the id under its own label. */
function sessionOf(id: string, expiresAt: number): Session {
  const key = digest(id);
  return { csrfToken: digest(`csrf:${id}`), expiresAt, key, fingerprint: key.slice(0, 12) };
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
