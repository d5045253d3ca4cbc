// lib/log.ts: one line per event on stderr, as text or JSON, with every known token redacted.
import { redact } from "./secrets.ts";

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** `text` for people and journald, `json` for log shippers (one object per line). */
export type LogFormat = "text" | "json";
/** Extra facts about an event; values are printed as they are, so never pass a token here. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

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
 * Formats one event as a single line. Pure, apart from the redaction registry: whatever the caller
 * passes, a registered token comes out as its fingerprint, and a newline cannot split the line.
 */
export function formatLogLine(
  level: LogLevel,
  message: string,
  fields: LogFields,
  format: LogFormat,
  now: Date,
): string {
  // Redact the raw values before any quoting or escaping: a token holding `"` or `\` would
  // otherwise survive in its escaped form, which every reader decodes back.
  const text = redact(message);
  const safe = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => [key, typeof value === "string" ? redact(value) : value] as const);
  if (format === "json") {
    return JSON.stringify({
      time: now.toISOString(),
      level,
      msg: text,
      ...Object.fromEntries(safe),
    });
  }
  const pairs = safe.map(([key, value]) => ` ${key}=${quoteIfNeeded(String(value))}`).join("");
  return `${now.toISOString()} ${level.toUpperCase()} ${text}${pairs}`.replace(/[\r\n]+/g, " ");
}

function quoteIfNeeded(value: string): string {
  return /^[^\s"=]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
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
