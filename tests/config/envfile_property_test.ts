// tests/config/envfile_property_test.ts: the enrollment rewrite, the rotation's and the host
// binding's on generated env files (contract section 2, Persistence). Each generated line knows
// what the parser should make of it.

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  envValues,
  INSTALL_TOKEN_CONSUMED,
  parseEnvFile,
  rewriteEnvFile,
  withSensorToken,
} from "../../lib/config/envfile.ts";

const SOURCE = "generated.env";
const NUM_RUNS = 500;

/** A generated line without its ending, and the assignment it should parse to, if any. */
interface GeneratedLine {
  readonly body: string;
  readonly key?: string;
  readonly value?: string;
}

const blank = fc.constantFrom("", " ", "\t", "  \t ");
const TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+/=-";
const sensorToken = fc.string({
  unit: fc.constantFrom(...TOKEN_CHARS),
  minLength: 8,
  maxLength: 64,
});
// Install token values are long and prefixed so that finding one in the output is never chance.
const installValue = fc.string({ unit: fc.constantFrom(..."abcdef0123456789"), minLength: 16 })
  .map((s) => `inst_${s}`);
const anyValue = fc.string({ unit: fc.constantFrom(..."ab Z09#=.:/\\_-'\"$\t") });
const otherKey = fc.constantFrom("A", "SENSOR_ID", "BACKEND_URL", "_x1", "INSTALL_TOKEN_FILE");
const hostBinding = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64 })
  .map((s) => s.slice(0, 64));

/** Writes `value` as the parser should read it back: bare, single-quoted or double-quoted. */
const quoted = (value: fc.Arbitrary<string>) =>
  fc.oneof(
    // Bare values cannot hold quotes, and their edge blanks belong to the line, not the value.
    value.map((v) => v.replace(/['"]/g, "").replace(/^[ \t]+|[ \t]+$/g, ""))
      .map((v) => ({ raw: v, value: v })),
    value.filter((v) => !v.includes("'")).map((v) => ({ raw: `'${v}'`, value: v })),
    value.map((v) => ({ raw: `"${v.replace(/[\\"]/g, "\\$&")}"`, value: v })),
  );

const assignment = (key: fc.Arbitrary<string>, value: fc.Arbitrary<string>) =>
  fc.record({
    lead: blank,
    exported: fc.constantFrom("", "export ", "export\t "),
    key,
    aroundEquals: fc.tuple(blank, blank),
    quotedValue: quoted(value),
    trail: blank,
  }).map((a): GeneratedLine => ({
    body: `${a.lead}${a.exported}${a.key}${a.aroundEquals[0]}=${a.aroundEquals[1]}` +
      `${a.quotedValue.raw}${a.trail}`,
    key: a.key,
    value: a.quotedValue.value,
  }));

const comment = fc.tuple(
  blank,
  fc.constantFrom(
    "# INSTALL_TOKEN=old-install",
    "#SENSOR_TOKEN=old-sensor",
    "# export SENSOR_TOKEN='x'",
    "#",
    "# a note with = and 'quotes\" in it",
  ),
).map(([lead, text]): GeneratedLine => ({ body: lead + text }));

const line: fc.Arbitrary<GeneratedLine> = fc.oneof(
  comment,
  blank.map((body): GeneratedLine => ({ body })),
  assignment(otherKey, anyValue),
  assignment(fc.constant("INSTALL_TOKEN"), installValue),
  assignment(fc.constant("SENSOR_TOKEN"), sensorToken),
  assignment(fc.constant("SENSOR_HOST_BINDING"), hostBinding),
);

const envFile = fc.record({
  lines: fc.array(line, { maxLength: 12 }),
  ending: fc.constantFrom("\n", "\r\n"),
  finalNewline: fc.boolean(),
}).map(({ lines, ending, finalNewline }) => {
  // Without a final newline an empty last line is no line at all: the file ends one line earlier.
  while (!finalNewline && lines.at(-1)?.body === "") lines = lines.slice(0, -1);
  const text = lines.map((l, i) => l.body + (i < lines.length - 1 || finalNewline ? ending : ""));
  return { lines, ending, text: text.join("") };
});

/** The keys an enrollment rewrites: it consumes the install token and sets the other two. */
const isTokenKey = (key?: string) =>
  key === "INSTALL_TOKEN" || key === "SENSOR_TOKEN" || key === "SENSOR_HOST_BINDING";

function withoutTokenKeys(values: Map<string, string>): Map<string, string> {
  return new Map([...values].filter(([key]) => !isTokenKey(key)));
}

Deno.test("property: parse accepts every generated file and reads each value as written", () => {
  fc.assert(
    fc.property(envFile, ({ lines, text }) => {
      const parsed = parseEnvFile(text, SOURCE);
      assert.equal(parsed.length, lines.length);
      parsed.forEach((p, i) => {
        assert.equal(p.key, lines[i].key);
        assert.equal(p.value, lines[i].value);
      });
    }),
    { numRuns: NUM_RUNS },
  );
});

Deno.test("property: every other line survives byte for byte, in order", () => {
  fc.assert(
    fc.property(envFile, sensorToken, ({ text }, token) => {
      const input = parseEnvFile(text, SOURCE);
      // The file's ending is its first line's: a one-line file without newline counts as LF.
      const ending = input[0]?.text.endsWith("\r\n") ? "\r\n" : "\n";
      const output = parseEnvFile(withSensorToken(input, token), SOURCE);
      const kept = input.filter((l) => !isTokenKey(l.key)).map((l) => l.text);
      const survivors = output
        .filter((l) => !isTokenKey(l.key) && l.text.trimEnd() !== INSTALL_TOKEN_CONSUMED)
        .map((l) => l.text);
      assert.equal(survivors.length, kept.length);
      survivors.forEach((survivor, i) => {
        // Only a last line that lacked a newline may gain one, when SENSOR_TOKEN follows it.
        const gainedEnding = !kept[i].endsWith("\n") && survivor === kept[i] + ending;
        assert.ok(
          survivor === kept[i] || gainedEnding,
          JSON.stringify({ survivor, kept: kept[i] }),
        );
      });
    }),
    { numRuns: NUM_RUNS },
  );
});

Deno.test("property: the output holds one SENSOR_TOKEN, the token, and no install token", () => {
  fc.assert(
    fc.property(envFile, sensorToken, ({ lines, text }, token) => {
      const output = withSensorToken(parseEnvFile(text, SOURCE), token);
      const reparsed = parseEnvFile(output, SOURCE);
      const sensorLines = reparsed.filter((l) => l.key === "SENSOR_TOKEN");
      assert.equal(sensorLines.length, 1);
      assert.equal(sensorLines[0].value, token);
      assert.ok(!reparsed.some((l) => l.key === "INSTALL_TOKEN"));
      for (const l of lines) {
        if (l.key === "INSTALL_TOKEN") assert.ok(!output.includes(l.value ?? ""));
      }
    }),
    { numRuns: NUM_RUNS },
  );
});

Deno.test("property: every other key keeps its value", () => {
  fc.assert(
    fc.property(envFile, sensorToken, ({ text }, token) => {
      const input = parseEnvFile(text, SOURCE);
      const output = parseEnvFile(withSensorToken(input, token), SOURCE);
      assert.deepEqual(withoutTokenKeys(envValues(output)), withoutTokenKeys(envValues(input)));
    }),
    { numRuns: NUM_RUNS },
  );
});

Deno.test("property: rewriting twice with the same token changes nothing more", () => {
  fc.assert(
    fc.property(envFile, sensorToken, ({ text }, token) => {
      const once = withSensorToken(parseEnvFile(text, SOURCE), token);
      assert.equal(withSensorToken(parseEnvFile(once, SOURCE), token), once);
    }),
    { numRuns: NUM_RUNS },
  );
});

/** A generated file that holds a SENSOR_TOKEN line: one an agent could be rotating. */
const enrolledFile = envFile.filter(({ lines }) => lines.some((l) => l.key === "SENSOR_TOKEN"));

/** The lines of `output` that are not `key`'s, and those of `input`, as text. */
function othersThan(key: string, input: string, output: string): [string[], string[]] {
  const texts = (text: string) =>
    parseEnvFile(text, SOURCE).filter((l) => l.key !== key).map((l) => l.text);
  return [texts(input), texts(output)];
}

Deno.test("property: a rotation changes the SENSOR_TOKEN lines alone, install token included", () => {
  fc.assert(
    fc.property(enrolledFile, sensorToken, ({ text }, token) => {
      const output = rewriteEnvFile(parseEnvFile(text, SOURCE), { sensorToken: token });
      const [kept, survivors] = othersThan("SENSOR_TOKEN", text, output);
      assert.deepEqual(survivors, kept.map((line) => line.replace(/^\uFEFF/, "")));
      const tokens = parseEnvFile(output, SOURCE).filter((l) => l.key === "SENSOR_TOKEN");
      assert.deepEqual(tokens.map((l) => l.value), [token]);
    }),
    { numRuns: NUM_RUNS },
  );
});

Deno.test("property: adding the binding keeps every other line, and reads back as written", () => {
  fc.assert(
    fc.property(enrolledFile, hostBinding, ({ text }, binding) => {
      const input = parseEnvFile(text, SOURCE);
      const output = rewriteEnvFile(input, { hostBinding: binding });
      const ending = input[0]?.text.endsWith("\r\n") ? "\r\n" : "\n";
      const [kept, survivors] = othersThan("SENSOR_HOST_BINDING", text, output);
      assert.equal(survivors.length, kept.length);
      survivors.forEach((survivor, i) => {
        const was = kept[i].replace(/^\uFEFF/, "");
        // A SENSOR_TOKEN line without a newline gains one when the binding follows it.
        assert.ok(survivor === was || survivor === was + ending, JSON.stringify({ survivor, was }));
      });
      const values = envValues(parseEnvFile(output, SOURCE));
      assert.equal(values.get("SENSOR_HOST_BINDING"), binding);
      assert.equal(values.get("SENSOR_TOKEN"), envValues(input).get("SENSOR_TOKEN"));
    }),
    { numRuns: NUM_RUNS },
  );
});
