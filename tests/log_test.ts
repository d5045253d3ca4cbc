// tests/log_test.ts: one line per event, as text or JSON, with every registered token shown only as
// its fingerprint (docs/protocol.md, Secrets). log.ts and secrets.ts keep module state (the options
// and the redaction registry): each test restores the options it changes, and registers only fresh
// tokens.

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  escapeText,
  formatLogLine,
  log,
  type LogOptions,
  MAX_FIELD_CHARS,
  MAX_MESSAGE_CHARS,
  setLogOptions,
} from "../lib/log.ts";
import { fingerprint, redact, registerSecret } from "../lib/secrets.ts";

const NOW = new Date("2024-05-06T07:08:09.010Z");

/** A token nobody else uses, in the sensor token charset, registered for redaction. */
function registeredToken(prefix: string): string {
  const token = `${prefix}-${crypto.randomUUID()}`;
  registerSecret(token);
  return token;
}

/** The first 12 hex digits of SHA-256, computed with WebCrypto rather than node:crypto. */
async function sha256Prefix(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("")
    .slice(0, 12);
}

/** Runs `use` with the logger writing into an array, then puts back the module's defaults. */
function capturing(changes: Partial<LogOptions>, use: () => void): string[] {
  const lines: string[] = [];
  setLogOptions({ ...changes, write: (line) => lines.push(line) });
  try {
    use();
  } finally {
    // The defaults of lib/log.ts: info, text, one line on stderr.
    const encoder = new TextEncoder();
    setLogOptions({
      level: "info",
      format: "text",
      write: (line) => Deno.stderr.writeSync(encoder.encode(line + "\n")),
    });
  }
  return lines;
}

// --- formats

Deno.test("log: a text line is time, upper-case level, message, then key=value fields", () => {
  assert.equal(
    formatLogLine("warn", "enrolled", { sensorId: "s-1", port: 22, ok: true }, "text", NOW),
    "2024-05-06T07:08:09.010Z WARN enrolled sensorId=s-1 port=22 ok=true",
  );
});

Deno.test("log: a text field with blanks, quotes, = or nothing in it is quoted", () => {
  assert.equal(
    formatLogLine("info", "m", { a: "two words", b: 'say "hi"', c: "k=v", d: "" }, "text", NOW),
    `2024-05-06T07:08:09.010Z INFO m a="two words" b="say \\"hi\\"" c="k=v" d=""`,
  );
});

Deno.test("log: a json line is one object with time, level, msg and the fields", () => {
  const line = formatLogLine("error", "enrollment failed", { code: 69, path: "/x" }, "json", NOW);
  assert.deepEqual(JSON.parse(line), {
    time: "2024-05-06T07:08:09.010Z",
    level: "error",
    msg: "enrollment failed",
    code: 69,
    path: "/x",
  });
});

Deno.test("log: undefined fields are left out, in text and in json", () => {
  const fields = { kept: "yes", dropped: undefined };
  assert.equal(
    formatLogLine("info", "m", fields, "text", NOW),
    "2024-05-06T07:08:09.010Z INFO m kept=yes",
  );
  assert.deepEqual(Object.keys(JSON.parse(formatLogLine("info", "m", fields, "json", NOW))), [
    "time",
    "level",
    "msg",
    "kept",
  ]);
});

// --- one event, one line

for (const newline of ["\n", "\r\n", "\r"]) {
  Deno.test(`log: a ${JSON.stringify(newline)} in a message cannot split a text line`, () => {
    const line = formatLogLine("info", `first${newline}INFO forged`, {}, "text", NOW);
    assert.doesNotMatch(line, /[\r\n]/);
    // Shown as the escape it is: a blank in its place would hide that the text held a line break.
    const shown = newline.replace("\r", "\\r").replace("\n", "\\n");
    assert.equal(line, `2024-05-06T07:08:09.010Z INFO first${shown}INFO forged`);
  });
}

Deno.test("log: a newline in a text field value is escaped inside quotes", () => {
  const line = formatLogLine("info", "m", { reason: "a\nb" }, "text", NOW);
  assert.doesNotMatch(line, /[\r\n]/);
  assert.equal(line, `2024-05-06T07:08:09.010Z INFO m reason="a\\nb"`);
});

Deno.test("log: newlines in a json message and fields stay inside one line", () => {
  const line = formatLogLine("info", "a\r\nb", { reason: "c\nd" }, "json", NOW);
  assert.doesNotMatch(line, /[\r\n]/);
  const parsed = JSON.parse(line);
  assert.equal(parsed.msg, "a\r\nb");
  assert.equal(parsed.reason, "c\nd");
});

// --- options

Deno.test("log: lines below the configured level are dropped, the rest kept in order", () => {
  const lines = capturing({ level: "warn", format: "text" }, () => {
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
  });
  assert.deepEqual(lines.map((line) => line.split(" ").slice(1).join(" ")), ["WARN w", "ERROR e"]);
});

Deno.test("log: at level debug every level is written", () => {
  const lines = capturing({ level: "debug", format: "text" }, () => {
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
  });
  assert.equal(lines.length, 4);
});

Deno.test("log: at level error only errors are written", () => {
  const lines = capturing({ level: "error", format: "text" }, () => {
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
  });
  assert.equal(lines.length, 1);
  assert.match(lines[0], / ERROR e$/);
});

Deno.test("log: format json through setLogOptions writes parseable objects with their fields", () => {
  const lines = capturing({ level: "info", format: "json" }, () => {
    log.info("heartbeat sent", { status: 200 });
  });
  assert.equal(lines.length, 1);
  const parsed = JSON.parse(lines[0]);
  assert.equal(parsed.level, "info");
  assert.equal(parsed.msg, "heartbeat sent");
  assert.equal(parsed.status, 200);
  assert.ok(!Number.isNaN(Date.parse(parsed.time)));
});

// --- redaction (docs/protocol.md, Secrets)

Deno.test("secrets: the fingerprint is the first 12 hex digits of the token's SHA-256", async () => {
  for (const token of ["install-token", "s3cr3t+/=._-ABC", "ü-unicode-token"]) {
    const expected = await sha256Prefix(token);
    assert.equal(fingerprint(token), expected);
    assert.match(fingerprint(token), /^[0-9a-f]{12}$/);
  }
});

Deno.test("secrets: redact replaces every occurrence of a registered token by its fingerprint", async () => {
  const token = registeredToken("redact");
  const expected = `sha256:${await sha256Prefix(token)}`;
  assert.equal(redact(`a ${token} b ${token}`), `a ${expected} b ${expected}`);
});

Deno.test("secrets: text without a registered token is left as it is", () => {
  registeredToken("unrelated");
  assert.equal(redact("nothing secret here"), "nothing secret here");
});

Deno.test("log: a registered token never appears in a line, text or json", async () => {
  const token = registeredToken("logtoken");
  const shown = `sha256:${await sha256Prefix(token)}`;
  for (const format of ["text", "json"] as const) {
    const lines = capturing({ level: "debug", format }, () => {
      log.error(`rejected ${token}`, { token, url: `https://b.example/?t=${token}` });
    });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0].includes(token), `${format}: ${lines[0]}`);
    assert.ok(lines[0].includes(shown), `${format}: the fingerprint names the token`);
  }
});

Deno.test("log: a token registered later is redacted from later lines", () => {
  const token = `late-${crypto.randomUUID()}`;
  const before = formatLogLine("info", token, {}, "text", NOW);
  assert.ok(before.includes(token), "not yet registered: nothing to hide");
  registerSecret(token);
  assert.ok(!formatLogLine("info", token, {}, "text", NOW).includes(token));
});

Deno.test({
  name: "log: a token with a quote or backslash is not recoverable from a json line",
  fn: () => {
    const token = `quote"back\\slash-${crypto.randomUUID()}`;
    registerSecret(token);
    const line = formatLogLine("info", "m", { installToken: token }, "json", NOW);
    assert.notEqual(JSON.parse(line).installToken, token);
  },
});

Deno.test("log: a token with a quote or backslash is not recoverable from a text line", () => {
  const token = `quote"back\\slash-${crypto.randomUUID()}`;
  registerSecret(token);
  const line = formatLogLine("info", token, { installToken: token }, "text", NOW);
  const field = /installToken=("(?:[^"\\]|\\.)*"|\S*)/.exec(line)![1];
  const value = field.startsWith('"') ? JSON.parse(field) : field;
  assert.ok(!value.includes(token), `the field decodes back to the token: ${line}`);
  assert.ok(!line.includes(token), `the message holds the token: ${line}`);
});

// --- strings from outside (docs/threat-model.md, Log lines): escaped, capped

/** What a terminal acts on or a viewer hides: C0, DEL, C1, format (bidi, zero-width), separators. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const ERASE_AND_CLIMB = "\x1b[2K\x1b[1A"; // erase the line, then move up: eats the line before

Deno.test("log: a sensorId that erases the previous line reaches a text line as visible escapes", () => {
  const line = formatLogLine(
    "info",
    "enrolled",
    { sensorId: `s-1${ERASE_AND_CLIMB}` },
    "text",
    NOW,
  );
  assert.ok(!line.includes("\x1b"), "no ESC byte");
  assert.equal(line, `2024-05-06T07:08:09.010Z INFO enrolled sensorId="s-1\\x1b[2K\\x1b[1A"`);
});

Deno.test("log: the same sensorId in a json line is a \\u escape that parses back to it", () => {
  const sensorId = `s-1${ERASE_AND_CLIMB}`;
  const line = formatLogLine("info", "enrolled", { sensorId }, "json", NOW);
  assert.ok(!line.includes("\x1b"), "no ESC byte");
  assert.equal(JSON.parse(line).sensorId, sensorId, "a log shipper still gets the value");
});

const NASTY: Record<string, string> = {
  "DEL": "\x7f",
  "C1 CSI (U+009B), which some terminals read as ESC [": "\u009b2K",
  "NEL (U+0085)": "\u0085",
  "right-to-left override": "\u202etxt.exe",
  "right-to-left isolate": "\u2067x\u2069",
  "zero-width space": "sensor\u200b-01",
  "line separator": "a\u2028b",
  "byte order mark": "\ufeffx",
  "a lone surrogate": "\ud800x",
  "a tag character (U+E0041, outside the BMP)": "\u{e0041}",
  "NUL": "a\0b",
  "a tab": "a\tb",
};

for (const [what, value] of Object.entries(NASTY)) {
  Deno.test(`log: ${what} in a message or a field never reaches a line raw, text or json`, () => {
    for (const format of ["text", "json"] as const) {
      const line = formatLogLine("warn", `got ${value}`, { value }, format, NOW);
      assert.doesNotMatch(line, UNSAFE, `${format}: ${JSON.stringify(line)}`);
      if (format === "json") {
        const parsed = JSON.parse(line);
        assert.equal(parsed.value, value);
        assert.equal(parsed.msg, `got ${value}`);
      }
    }
  });
}

Deno.test("log: text escapes are C-style; printable text, backslashes included, is kept", () => {
  assert.equal(
    escapeText("\x1b\x7f\u009b\u202e\u{e0041}\n\r\t"),
    "\\x1b\\x7f\\x9b\\u{202e}\\u{e0041}\\n\\r\\t",
  );
  assert.equal(escapeText("café ✓ 传感器 🛰"), "café ✓ 传感器 🛰");
  // Text that already shows escapes (the reference backend's log) is not escaped twice.
  assert.equal(escapeText("evil\\u202Etxt"), "evil\\u202Etxt");
});

Deno.test("log: inside a quoted text value a literal backslash is doubled, so escapes read one way", () => {
  const line = formatLogLine("info", "m", { v: "typed \\x1b, sent \x1b" }, "text", NOW);
  assert.equal(line, `2024-05-06T07:08:09.010Z INFO m v="typed \\\\x1b, sent \\x1b"`);
  assert.equal(
    formatLogLine("info", "m", { v: "C:\\dir" }, "text", NOW),
    "2024-05-06T07:08:09.010Z INFO m v=C:\\dir",
    "a plain word stays bare",
  );
});

Deno.test("log: a 900 KB sensorId is cut to 256 characters and '...', text and json", () => {
  const sensorId = "A".repeat(900 * 1024);
  for (const format of ["text", "json"] as const) {
    const line = formatLogLine("info", "enrolled", { sensorId, token: "abc" }, format, NOW);
    assert.ok(line.length < 400, `${format}: ${line.length} characters`);
    const shown = format === "json" ? JSON.parse(line).sensorId : /sensorId=(\S+)/.exec(line)![1];
    assert.equal(shown, "A".repeat(MAX_FIELD_CHARS) + "...");
    assert.match(line, /token/, "the fields after it are kept");
  }
});

Deno.test("log: a cut never splits a character: 300 emoji keep 256 whole ones", () => {
  const line = formatLogLine("info", "m", { name: "🛰".repeat(300) }, "json", NOW);
  assert.equal(JSON.parse(line).name, "🛰".repeat(256) + "...");
});

Deno.test("log: a long message keeps its start and its end (what to do), cut in the middle", () => {
  const message = `config error: ${"x".repeat(900 * 1024)}. Fix the file, then start again`;
  for (const format of ["text", "json"] as const) {
    const line = formatLogLine("error", message, {}, format, NOW);
    const msg = format === "json" ? JSON.parse(line).msg : line.split(" ERROR ")[1];
    assert.equal(msg.length, MAX_MESSAGE_CHARS + 3);
    assert.ok(msg.startsWith("config error: xxx"), msg.slice(0, 40));
    assert.ok(msg.endsWith("x. Fix the file, then start again"), msg.slice(-40));
    assert.match(msg, /x\.\.\.x/);
  }
});

Deno.test("log: a token near the cut is redacted first, so the cut shows no part of it", () => {
  const token = registeredToken("cutter");
  const value = "x".repeat(MAX_FIELD_CHARS - 20) + token;
  for (const format of ["text", "json"] as const) {
    const line = formatLogLine("info", "m", { value }, format, NOW);
    assert.ok(!line.includes(token.slice(0, 12)), `${format}: a piece of the token: ${line}`);
  }
});

Deno.test("log: any string at all: no unsafe character in the line, json parses back to it", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 300 }), (value) => {
      const text = formatLogLine("info", value, { value }, "text", NOW);
      const json = formatLogLine("info", value, { value }, "json", NOW);
      assert.doesNotMatch(text, UNSAFE);
      assert.doesNotMatch(json, UNSAFE);
      const parsed = JSON.parse(json);
      const chars = Array.from(value);
      const cut = chars.length > MAX_FIELD_CHARS
        ? chars.slice(0, MAX_FIELD_CHARS).join("") + "..."
        : value;
      assert.equal(parsed.value, cut);
      assert.equal(parsed.msg, value);
    }),
    { numRuns: 2000 },
  );
});
