// lib/log.ts: one line per event on stderr, as text or JSON, with every known token redacted and
// every string from outside made harmless to the terminal that shows it and cut to a bounded length
// (docs/threat-model.md, Log lines).
import { redact } from "./secrets.ts";

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** `text` for people and journald, `json` for log shippers (one object per line). */
export type LogFormat = "text" | "json";
/** Extra facts about an event. Strings are redacted, escaped and capped like the message. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** At most this many characters of one field's string reach a line; the rest becomes "...". */
export const MAX_FIELD_CHARS = 256;
/**
 * At most this many characters of a message. A message is the agent's own words around at most a
 * few quoted strings; past the cap its middle goes, so that what happened and what to do (its
 * start and its end) both stay.
 */
export const MAX_MESSAGE_CHARS = 1024;

/**
 * The characters no log line carries as they are: C0 and C1 controls and DEL (ESC starts terminal
 * sequences that move the cursor or erase lines; C1's CSI does the same on some terminals), format
 * characters (bidi overrides that reorder what is shown, zero-width characters that make two names
 * look alike), lone surrogates, and the line and paragraph separators that some viewers break on.
 */
const UNSAFE_SOURCE = "[\\p{Cc}\\p{Cf}\\p{Cs}\\p{Zl}\\p{Zp}]";
/** Space to tilde: text made only of these holds nothing unsafe, and most log text is. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
// Made at their first use: building the Unicode property sets costs a command's start-up over a
// millisecond, and most commands never meet a character outside printable ASCII.
let unsafe: RegExp | undefined;
let everyUnsafe: RegExp | undefined;

/** True when `text` holds an unsafe character. */
function hasUnsafe(text: string): boolean {
  if (PRINTABLE_ASCII.test(text)) return false;
  return (unsafe ??= new RegExp(UNSAFE_SOURCE, "u")).test(text);
}

/** `text` with each unsafe character replaced by what `escape` makes of it. */
function replaceUnsafe(text: string, escape: (char: string) => string): string {
  if (PRINTABLE_ASCII.test(text)) return text;
  return text.replace(everyUnsafe ??= new RegExp(UNSAFE_SOURCE, "gu"), escape);
}
const TEXT_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Where log lines go and which of them are kept; a test can swap `write` to capture them. */
export interface LogOptions {
  level: LogLevel;
  format: LogFormat;
  write: (line: string) => void;
}

const encoder = new TextEncoder();
const options: LogOptions = {
  level: "info",
  format: "text",
  write: (line) => Deno.stderr.writeSync(encoder.encode(line + "\n")),
};

/** Changes the level, format or sink of every later log line. */
export function setLogOptions(changes: Partial<LogOptions>): void {
  Object.assign(options, changes);
}

/**
 * `text` cut to `max` characters (code points, so no pair is split): its end replaced by "...",
 * or with `keepEnd`, its middle, keeping the last quarter.
 */
export function capText(text: string, max: number, keepEnd = false): string {
  if (text.length <= max) return text; // UTF-16 length >= code points: nothing to cut
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  if (!keepEnd) return chars.slice(0, max).join("") + "...";
  const tail = Math.floor(max / 4);
  return chars.slice(0, max - tail).join("") + "..." + chars.slice(chars.length - tail).join("");
}

/**
 * `text` with every unsafe character written as a visible escape: `\n`, `\r`, `\t`, `\x1b` up to
 * U+00FF, `\u{202e}` above. Free of anything a terminal acts on; other text (accents, CJK, emoji)
 * is kept as it is, backslashes too (text that already shows escapes, as the reference backend's
 * log does, is not escaped twice).
 */
export function escapeText(text: string): string {
  return replaceUnsafe(text, (char) => {
    const code = char.codePointAt(0)!;
    return TEXT_ESCAPES[char] ??
      (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`);
  });
}

/** JSON text with each unsafe character JSON.stringify leaves raw (DEL, C1, bidi...) as \uXXXX. */
function escapeJson(json: string): string {
  // Outside its strings a JSON line holds only ASCII punctuation and digits, so every unsafe
  // character here is inside a string, where \uXXXX (per UTF-16 unit) decodes back to it.
  return replaceUnsafe(json, (char) => {
    let units = "";
    for (let i = 0; i < char.length; i++) {
      units += `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`;
    }
    return units;
  });
}

/**
 * A text field's value: bare when it is a plain word, else quoted, with `\\` and `\"` for the
 * backslashes and quotes it held (so that inside quotes every escape reads one way) and escapes
 * for the unsafe characters.
 */
function textValue(value: string): string {
  if (value !== "" && !/[\s"=]/.test(value) && !hasUnsafe(value)) return value;
  return `"${escapeText(value.replace(/[\\"]/g, (char) => `\\${char}`))}"`;
}

/**
 * Formats one event as a single line. Pure, apart from the redaction registry: whatever the caller
 * passes, a registered token comes out as its fingerprint, nothing a terminal acts on comes out
 * raw, each string field is at most MAX_FIELD_CHARS characters and the message MAX_MESSAGE_CHARS.
 */
export function formatLogLine(
  level: LogLevel,
  message: string,
  fields: LogFields,
  format: LogFormat,
  now: Date,
): string {
  // Redact the raw values before anything else: a cut could split a token the registry would no
  // longer recognise, and a token holding `"` or `\` would survive in its escaped form.
  const text = capText(redact(message), MAX_MESSAGE_CHARS, true);
  const safe = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) =>
      [key, typeof value === "string" ? capText(redact(value), MAX_FIELD_CHARS) : value] as const
    );
  if (format === "json") {
    return escapeJson(JSON.stringify({
      time: now.toISOString(),
      level,
      msg: text,
      ...Object.fromEntries(safe),
    }));
  }
  const pairs = safe.map(([key, value]) => ` ${key}=${textValue(String(value))}`).join("");
  return `${now.toISOString()} ${level.toUpperCase()} ${escapeText(text)}${pairs}`;
}

/** True when lines of `level` are written: lets a caller skip work whose only use is such a line. */
export function isLogged(level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(options.level);
}

function emit(level: LogLevel, message: string, fields: LogFields = {}): void {
  if (!isLogged(level)) return;
  options.write(formatLogLine(level, message, fields, options.format, new Date()));
}

/** The agent's logger. Messages say what happened; fields carry the facts a machine may filter on. */
export const log = {
  debug: (message: string, fields?: LogFields) => emit("debug", message, fields),
  info: (message: string, fields?: LogFields) => emit("info", message, fields),
  warn: (message: string, fields?: LogFields) => emit("warn", message, fields),
  error: (message: string, fields?: LogFields) => emit("error", message, fields),
};

const warned = new Set<string>();

/** Warns about a lasting condition once per process, however often it is met (every beat). */
export function warnOnce(message: string, fields?: LogFields): void {
  if (warned.has(message)) return;
  warned.add(message);
  log.warn(message, fields);
}
