// reference-backend/console/assets.ts: the console's page, style and browser modules, and the
// headers every console reply carries. The files are plain HTML, CSS and JavaScript, imported as
// text: they load with the backend's module graph, so serving them needs no read permission and no
// build step. The JavaScript carries JSDoc types; tests/reference-backend/console/console_test.ts
// type-checks it against the DOM's library (checkJs), which cannot join the backend's own check:
// the DOM's globals clash with Deno's.
import appJs from "./static/app.js" with { type: "text" };
import apiJs from "./static/api.js" with { type: "text" };
import auditJs from "./static/audit.js" with { type: "text" };
import chartJs from "./static/chart.js" with { type: "text" };
import confirmJs from "./static/confirm.js" with { type: "text" };
import css from "./static/console.css" with { type: "text" };
import detailJs from "./static/detail.js" with { type: "text" };
import factsJs from "./static/facts.js" with { type: "text" };
import favicon from "./static/favicon.svg" with { type: "text" };
import filtersJs from "./static/filters.js" with { type: "text" };
import fleetJs from "./static/fleet.js" with { type: "text" };
import html from "./static/index.html" with { type: "text" };
import mintJs from "./static/mint.js" with { type: "text" };
import rowJs from "./static/row.js" with { type: "text" };
import staleJs from "./static/stale.js" with { type: "text" };
import tableJs from "./static/table.js" with { type: "text" };
import textJs from "./static/text.js" with { type: "text" };
import tokensJs from "./static/tokens.js" with { type: "text" };

/** A file the console serves: its bytes and its type. */
export interface Asset {
  readonly body: string;
  readonly type: string;
}

const JS = "text/javascript; charset=utf-8";

/** The page, at /console. */
export const PAGE: Asset = { body: html, type: "text/html; charset=utf-8" };

/** The icon: an SVG, at /console/static/favicon.svg and at /favicon.ico, where browsers ask. */
export const FAVICON: Asset = { body: favicon, type: "image/svg+xml" };

/** What /console/static/<name> serves. */
export const STATIC: ReadonlyMap<string, Asset> = new Map([
  ["console.css", { body: css, type: "text/css; charset=utf-8" }],
  ["favicon.svg", FAVICON],
  ["app.js", { body: appJs, type: JS }],
  ["api.js", { body: apiJs, type: JS }],
  ["audit.js", { body: auditJs, type: JS }],
  ["chart.js", { body: chartJs, type: JS }],
  ["confirm.js", { body: confirmJs, type: JS }],
  ["detail.js", { body: detailJs, type: JS }],
  ["facts.js", { body: factsJs, type: JS }],
  ["filters.js", { body: filtersJs, type: JS }],
  ["fleet.js", { body: fleetJs, type: JS }],
  ["mint.js", { body: mintJs, type: JS }],
  ["row.js", { body: rowJs, type: JS }],
  ["stale.js", { body: staleJs, type: JS }],
  ["table.js", { body: tableJs, type: JS }],
  ["text.js", { body: textJs, type: JS }],
  ["tokens.js", { body: tokensJs, type: JS }],
]);

/**
 * Scripts and styles only from the console's own files: no inline script, no inline style, no
 * eval, nothing from elsewhere; the page cannot be framed, and forms post only to the backend.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** The headers of every console reply, refusals included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};
