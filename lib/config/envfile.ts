// lib/config/envfile.ts: reading and rewriting the agent's env file, as text. No I/O here: the
// caller checks size and file type, and writes the result atomically (docs/configuration.md).

import { configError } from "../errors.ts";
import { HOST_BINDING_PATTERN } from "./values.ts";

/** One line of an env file. Comments and blank lines carry only `text` and `number`. */
export interface EnvLine {
  readonly text: string; // the line exactly as read, ending included ("\n", "\r\n", or "" at EOF)
  readonly number: number; // 1-based line number
  readonly key?: string; // set only for an active `KEY=value` line
  readonly value?: string; // the unquoted value of an active line
  readonly exported?: boolean; // the line had an `export ` prefix
}

/** Characters a sensor token may hold (docs/protocol.md): 8-4096 of A-Z a-z 0-9 . _ + / = - */
export const SENSOR_TOKEN_PATTERN = /^[A-Za-z0-9._+\/=-]{8,4096}$/;

/** The key of the host binding's line, written beside SENSOR_TOKEN (docs/configuration.md). */
export const HOST_BINDING_KEY = "SENSOR_HOST_BINDING";

/** The comment that replaces every active INSTALL_TOKEN line once enrollment has spent it. */
export const INSTALL_TOKEN_CONSUMED = "# INSTALL_TOKEN consumed during enrollment";

const BOM = "\uFEFF";
// Only the key and `=` are matched by a regex; values are scanned by hand, so a 64 KiB line of
// blanks cannot make a backtracking regex quadratic.
const ASSIGNMENT = /^(export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=/;
const SYNTAX_ADVICE = "Fix the line: KEY=value, optionally quoted; comments start with #";
const QUOTE_ADVICE = "Fix the line: a quoted value ends with its closing quote as the last " +
  'character; inside double quotes write " as \\" and \\ as \\\\; single quotes cannot hold \'';

/**
 * Parses env-file text into its lines, keeping each line's text and ending so a rewrite can
 * reproduce it. Throws a configuration error (78) naming `source` and the line for any line
 * outside the grammar of docs/configuration.md; the message never contains any part of a value.
 */
export function parseEnvFile(text: string, source: string): EnvLine[] {
  const lines: EnvLine[] = [];
  for (let start = 0; start < text.length;) {
    const newline = text.indexOf("\n", start);
    const end = newline < 0 ? text.length : newline + 1;
    const lineText = text.slice(start, end);
    const number = lines.length + 1;
    let body = lineText.endsWith("\r\n")
      ? lineText.slice(0, -2)
      : lineText.endsWith("\n")
      ? lineText.slice(0, -1)
      : lineText;
    // Editors on Windows may save a BOM; it is not part of the first key.
    if (start === 0 && body.startsWith(BOM)) body = body.slice(1);
    lines.push(parseLine(lineText, number, trimBlanks(body), `${source} line ${number}`));
    start = end;
  }
  return lines;
}

/** The active assignments as a Map, the last one of a repeated key winning (docs/configuration.md). */
export function envValues(lines: readonly EnvLine[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of lines) {
    if (line.key !== undefined) values.set(line.key, line.value ?? "");
  }
  return values;
}

/** What a rewrite of the env file changes; every other line is kept byte for byte. */
export interface EnvFileChanges {
  /** Every active INSTALL_TOKEN line becomes INSTALL_TOKEN_CONSUMED: an enrollment spent it. */
  readonly consumeInstallToken?: boolean;
  /** The new SENSOR_TOKEN; the current one is kept when undefined. */
  readonly sensorToken?: string;
  /** The new SENSOR_HOST_BINDING, or null to remove it; the current one is kept when undefined. */
  readonly hostBinding?: string | null;
}

/**
 * The file text with `changes` made (docs/configuration.md, What the agent writes). The first
 * active SENSOR_TOKEN line gets the new token in place (its `export ` kept, the line ending in LF)
 * and later ones go, or SENSOR_TOKEN is appended; SENSOR_HOST_BINDING likewise, or, where the file
 * has none, it goes right after the SENSOR_TOKEN line ("beside" it); consumed INSTALL_TOKEN lines
 * take the file's own ending. All other lines are kept byte for byte, but for a byte order mark,
 * which goes. Throws if a value is not what the agent may write unquoted.
 */
export function rewriteEnvFile(lines: readonly EnvLine[], changes: EnvFileChanges): string {
  const { sensorToken, hostBinding } = changes;
  // The token comes from the network: a newline, quote or # in it could inject lines.
  if (sensorToken !== undefined && !SENSOR_TOKEN_PATTERN.test(sensorToken)) {
    throw new Error(
      "refusing to write the sensor token to the env file: it is not 8-4096 characters of " +
        "A-Z a-z 0-9 . _ + / = -",
    );
  }
  if (typeof hostBinding === "string" && !HOST_BINDING_PATTERN.test(hostBinding)) {
    throw new Error("refusing to write a host binding that is not 64 lowercase hex digits");
  }
  const ending = lines[0]?.text.endsWith("\r\n") ? "\r\n" : "\n";
  // The agent's own lines always end in a bare LF, whatever the file's own ending: `sh` would read
  // a CR before it into the value. The other consumers take either ending.
  const own = (line: EnvLine | undefined, key: string, value: string) =>
    `${line?.exported ? "export " : ""}${key}=${value}\n`;
  const hasBinding = lines.some((line) => line.key === HOST_BINDING_KEY);
  let bindingWritten = hostBinding === undefined || hostBinding === null;
  const bindingBeside = () => {
    if (bindingWritten || hasBinding) return "";
    bindingWritten = true;
    return own(undefined, HOST_BINDING_KEY, hostBinding as string);
  };
  let out = "";
  let tokenSeen = false;
  let bindingSeen = false;
  for (const line of lines) {
    // A byte order mark goes: sh and Docker would read it into the first name.
    const text = line.number === 1 ? line.text.replace(BOM, "") : line.text;
    if (line.key === "INSTALL_TOKEN" && changes.consumeInstallToken) {
      out += INSTALL_TOKEN_CONSUMED + ending;
    } else if (line.key === "SENSOR_TOKEN") {
      // Later duplicates go: the last one would win, and it would be an older token.
      if (tokenSeen && sensorToken === undefined) {
        out += text;
      } else if (!tokenSeen && sensorToken !== undefined) {
        out += own(line, "SENSOR_TOKEN", sensorToken) + bindingBeside();
      } else if (!tokenSeen) {
        const beside = bindingBeside();
        out += text + (beside !== "" && !text.endsWith("\n") ? ending : "") + beside;
      }
      tokenSeen = true;
    } else if (line.key === HOST_BINDING_KEY && hostBinding !== undefined) {
      if (!bindingSeen && hostBinding !== null) out += own(line, HOST_BINDING_KEY, hostBinding);
      bindingSeen = bindingWritten = true;
    } else {
      out += text;
    }
  }
  if (sensorToken !== undefined && !tokenSeen) {
    const lineBreak = out === "" || out.endsWith("\n") ? "" : ending;
    out += `${lineBreak}SENSOR_TOKEN=${sensorToken}\n`;
  }
  if (!bindingWritten) {
    const lineBreak = out === "" || out.endsWith("\n") ? "" : ending;
    out += lineBreak + bindingBeside();
  }
  return out;
}

/**
 * The file text after enrollment: every active INSTALL_TOKEN line becomes INSTALL_TOKEN_CONSUMED,
 * SENSOR_TOKEN gets `sensorToken`, and SENSOR_HOST_BINDING gets `hostBinding` (or goes, on a host
 * without a machine id: a binding left from another host would call this one a copy).
 */
export function withSensorToken(
  lines: readonly EnvLine[],
  sensorToken: string,
  hostBinding?: string,
): string {
  return rewriteEnvFile(lines, {
    consumeInstallToken: true,
    sensorToken,
    hostBinding: hostBinding ?? null,
  });
}

/**
 * Why the agent's SENSOR_TOKEN line might not read as that one assignment to every consumer of
 * the file (the agent, systemd's EnvironmentFile=, Docker/compose env_file, `sh` sourcing), or
 * undefined when it will: a line ending in a backslash (systemd and `sh` join the next line to
 * it) or a carriage return that does not end a line (systemd starts a new line there). A byte
 * order mark is no hazard: withSensorToken drops it. The text names the line, never its value.
 */
export function rewriteHazard(lines: readonly EnvLine[], source: string): string | undefined {
  for (const line of lines) {
    const body = line.text.replace(/\r?\n$/, "");
    const where = `${source} line ${line.number}`;
    if (body.includes("\r")) {
      return `${where} holds a carriage return inside the line, where systemd starts a new line`;
    }
    if (body.endsWith("\\")) {
      return `${where} ends with a backslash, which joins the next line to it for systemd and sh`;
    }
  }
  return undefined;
}

function parseLine(text: string, number: number, body: string, where: string): EnvLine {
  if (body === "" || body.startsWith("#")) return { text, number };
  const match = ASSIGNMENT.exec(body);
  if (match === null) {
    const why = body.includes("=")
      ? "the name before = is not a key (letters, digits and _, not starting with a digit)"
      : "not a KEY=value line";
    throw configError(`${where}: ${why}`, SYNTAX_ADVICE);
  }
  const key = match[2];
  const value = unquote(trimBlanks(body.slice(match[0].length)), key, where);
  return { text, number, key, value, exported: match[1] !== undefined };
}

function unquote(raw: string, key: string, where: string): string {
  const fail = (why: string) => configError(`${where}: the value of ${key} ${why}`, QUOTE_ADVICE);
  if (raw.startsWith("'")) {
    const close = raw.indexOf("'", 1);
    if (close < 0) throw fail("opens a single quote that is not closed");
    if (close !== raw.length - 1) throw fail("has text after its closing single quote");
    return raw.slice(1, close);
  }
  if (raw.startsWith('"')) {
    let value = "";
    for (let i = 1; i < raw.length; i++) {
      const c = raw[i];
      if (c === '"') {
        if (i !== raw.length - 1) throw fail("has text after its closing double quote");
        return value;
      }
      // As in POSIX shells, only \" and \\ are escapes; any other backslash is kept as written.
      if (c === "\\" && (raw[i + 1] === '"' || raw[i + 1] === "\\")) i++;
      value += raw[i];
    }
    throw fail("opens a double quote that is not closed");
  }
  // A shell would read `A=b"c"` as `bc`; refusing it keeps every parser reading the same value.
  if (raw.includes("'") || raw.includes('"')) {
    throw fail("holds a quote but does not start with one");
  }
  return raw;
}

// Blanks are spaces and tabs, as in shells: trimming other Unicode spaces would alter values.
function trimBlanks(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s[start] === " " || s[start] === "\t")) start++;
  while (end > start && (s[end - 1] === " " || s[end - 1] === "\t")) end--;
  return s.slice(start, end);
}
