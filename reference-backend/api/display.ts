// reference-backend/api/display.ts: text that came from a sensor (hostname, label, interface
// names), made safe to print. The store keeps it as received; wherever it is shown to a person (a
// log line, a terminal, an HTML console) a control or bidirectional-formatting character could
// forge a line, hide text or reorder what the reader sees (e.g. U+202E turns "evil\u202Etxt.exe"
// into "evilexe.txt"). Pure.

// Cc: C0, DEL and C1 controls. Cf: format characters, among them the bidi embeddings, overrides
// and isolates (U+202A-U+202E, U+2066-U+2069), the marks U+200E/U+200F/U+061C, zero-width
// characters and the BOM. Zl/Zp: U+2028/U+2029, which some readers treat as line ends. Cs: lone
// surrogates, which are no text at all. The backslash, so that an escape cannot be faked.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/gu;

/**
 * `text` with every control, bidi/format, line- or paragraph-separator character and lone
 * surrogate written as a `\uXXXX` escape (`\u{XXXXX}` beyond U+FFFF), and `\` as `\\`. Every
 * other character, non-ASCII letters included, is kept; text without such characters comes back
 * unchanged. The result holds no character that changes layout, so it can be printed as it is
 * (an HTML page must still escape `<`, `&` and quotes itself).
 */
export function escapeForDisplay(text: string): string {
  return text.replace(UNSAFE, (char) => {
    if (char === "\\") return "\\\\";
    const code = char.codePointAt(0)!;
    const hex = code.toString(16).toUpperCase();
    return code > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, "0")}`;
  });
}
