// tests/config/envfile_test.ts: the env-file grammar, the enrollment rewrite, and the rewrites of a
// rotation and of the host binding (docs/configuration.md).

import assert from "node:assert/strict";
import {
  envValues,
  INSTALL_TOKEN_CONSUMED,
  parseEnvFile,
  rewriteEnvFile,
  SENSOR_TOKEN_PATTERN,
  withSensorToken,
} from "../../lib/config/envfile.ts";
import { AgentError, ExitCode } from "../../lib/errors.ts";

const SOURCE = "/etc/ravenxcope/sensor-agent.env";

function rewrite(text: string, token = "durable-token"): string {
  return withSensorToken(parseEnvFile(text, SOURCE), token);
}

function values(text: string): Record<string, string> {
  return Object.fromEntries(envValues(parseEnvFile(text, SOURCE)));
}

/** Asserts that parsing `text` fails with 78 at `line`, and that the message and advice hold no part of `secret`. */
function assertRejected(text: string, line: number, secret: string): void {
  assert.throws(() => parseEnvFile(text, SOURCE), (error: unknown) => {
    assert.ok(error instanceof AgentError);
    assert.equal(error.exitCode, ExitCode.config);
    assert.ok(error.message.startsWith(`${SOURCE} line ${line}: `), error.message);
    assert.ok(!error.message.includes(secret), error.message);
    assert.ok(!error.advice.includes(secret), error.advice);
    return true;
  });
}

Deno.test("rewrite: the seed's example, byte for byte", () => {
  assert.equal(
    rewrite("SENSOR_ID=sensor-1\nINSTALL_TOKEN=install-token\nBACKEND_URL=https://backend.local\n"),
    "SENSOR_ID=sensor-1\n# INSTALL_TOKEN consumed during enrollment\n" +
      "BACKEND_URL=https://backend.local\nSENSOR_TOKEN=durable-token\n",
  );
});

Deno.test("rewrite: a CRLF file keeps CRLF, but the SENSOR_TOKEN line ends in LF for sh", () => {
  assert.equal(
    rewrite("A=1\r\nINSTALL_TOKEN=secret-install\r\nB=2\r\n"),
    `A=1\r\n${INSTALL_TOKEN_CONSUMED}\r\nB=2\r\nSENSOR_TOKEN=durable-token\n`,
  );
});

Deno.test("rewrite: the ending follows the first line, other lines keep their own", () => {
  assert.equal(
    rewrite("A=1\nB=2\r\nSENSOR_TOKEN=old-token-1\r\n"),
    "A=1\nB=2\r\nSENSOR_TOKEN=durable-token\n",
  );
});

Deno.test("rewrite: without a final newline, SENSOR_TOKEN is appended after a line break", () => {
  assert.equal(rewrite("A=1\nB=2"), "A=1\nB=2\nSENSOR_TOKEN=durable-token\n");
  assert.equal(rewrite("A=1\r\nB=2"), "A=1\r\nB=2\r\nSENSOR_TOKEN=durable-token\n");
});

Deno.test("rewrite: a rewritten last line without newline gets the file's ending", () => {
  assert.equal(rewrite("A=1\nSENSOR_TOKEN=old-token-1"), "A=1\nSENSOR_TOKEN=durable-token\n");
  assert.equal(
    rewrite("A=1\r\nINSTALL_TOKEN=secret-install"),
    `A=1\r\n${INSTALL_TOKEN_CONSUMED}\r\nSENSOR_TOKEN=durable-token\n`,
  );
});

Deno.test("rewrite: an export prefix on SENSOR_TOKEN is kept, the value written unquoted", () => {
  assert.equal(
    rewrite("export\tSENSOR_TOKEN='old-token-1'\nA=1\n"),
    "export SENSOR_TOKEN=durable-token\nA=1\n",
  );
});

Deno.test("rewrite: an exported INSTALL_TOKEN line is consumed too", () => {
  assert.equal(
    rewrite('export INSTALL_TOKEN="secret-install"\n'),
    `${INSTALL_TOKEN_CONSUMED}\nSENSOR_TOKEN=durable-token\n`,
  );
});

Deno.test("rewrite: comments mentioning INSTALL_TOKEN or SENSOR_TOKEN are untouched", () => {
  const text = "# INSTALL_TOKEN=old\n  #SENSOR_TOKEN=x\nINSTALL_TOKEN=secret-install\n";
  assert.equal(
    rewrite(text),
    `# INSTALL_TOKEN=old\n  #SENSOR_TOKEN=x\n${INSTALL_TOKEN_CONSUMED}\nSENSOR_TOKEN=durable-token\n`,
  );
});

Deno.test("rewrite: the first SENSOR_TOKEN is replaced in place, later ones removed", () => {
  assert.equal(
    rewrite("A=1\nSENSOR_TOKEN=first-old\nB=2\nexport SENSOR_TOKEN=second-old\nC=3\n"),
    "A=1\nSENSOR_TOKEN=durable-token\nB=2\nC=3\n",
  );
});

Deno.test("rewrite: every INSTALL_TOKEN line is consumed, duplicates included", () => {
  const out = rewrite("INSTALL_TOKEN=install-one\nA=1\nINSTALL_TOKEN='install-two'\n");
  assert.equal(
    out,
    `${INSTALL_TOKEN_CONSUMED}\nA=1\n${INSTALL_TOKEN_CONSUMED}\nSENSOR_TOKEN=durable-token\n`,
  );
  assert.ok(!out.includes("install-one") && !out.includes("install-two"));
});

Deno.test("rewrite: an empty file becomes the SENSOR_TOKEN line alone", () => {
  assert.equal(rewrite(""), "SENSOR_TOKEN=durable-token\n");
});

Deno.test("rewrite: blank and whitespace-only lines are kept byte for byte", () => {
  assert.equal(rewrite("\n  \t\r\nA=1\n\n"), "\n  \t\r\nA=1\n\nSENSOR_TOKEN=durable-token\n");
});

Deno.test("rewrite: a UTF-8 BOM goes, so that sh and Docker read the first name", () => {
  assert.equal(rewrite("\uFEFFA=1\n"), "A=1\nSENSOR_TOKEN=durable-token\n");
  assert.equal(
    rewrite("\uFEFFINSTALL_TOKEN=secret-install\n"),
    `${INSTALL_TOKEN_CONSUMED}\nSENSOR_TOKEN=durable-token\n`,
  );
});

Deno.test("rewrite: a token that could inject lines or quotes is refused without echoing it", () => {
  const lines = parseEnvFile("A=1\n", SOURCE);
  for (
    const token of [
      "good-token\nINSTALL_TOKEN=x",
      "good#token",
      "good'token",
      'good"token',
      "good token",
      "short",
    ]
  ) {
    assert.throws(() => withSensorToken(lines, token), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.ok(!error.message.includes(token), error.message);
      return true;
    });
  }
});

Deno.test("token pattern: the contract's charset, 8 to 4096 characters", () => {
  assert.ok(SENSOR_TOKEN_PATTERN.test("AZaz09._+/=-"));
  assert.ok(SENSOR_TOKEN_PATTERN.test("a".repeat(4096)));
  assert.ok(!SENSOR_TOKEN_PATTERN.test("a".repeat(4097)));
  assert.ok(!SENSOR_TOKEN_PATTERN.test("a".repeat(7)));
});

Deno.test("parse: each line keeps its text, ending included, and its number", () => {
  const lines = parseEnvFile("# c\r\nA=1\nB=2", SOURCE);
  assert.deepEqual(lines, [
    { text: "# c\r\n", number: 1 },
    { text: "A=1\n", number: 2, key: "A", value: "1", exported: false },
    { text: "B=2", number: 3, key: "B", value: "2", exported: false },
  ]);
});

Deno.test("parse: whitespace around the line and around = is ignored", () => {
  assert.deepEqual(values("  \tA \t= \t1 2 \t\r\n\texport   B=\t'x y'  \n"), {
    A: "1 2",
    B: "x y",
  });
});

Deno.test("parse: export takes one or more blanks and sets exported", () => {
  const [line] = parseEnvFile("export \t A=1\n", SOURCE);
  assert.equal(line.key, "A");
  assert.equal(line.exported, true);
});

Deno.test("parse: a # after the first non-blank character is part of the value", () => {
  assert.deepEqual(values("A=b#c\nB=b # c\nC=#c\n"), { A: "b#c", B: "b # c", C: "#c" });
});

Deno.test("parse: single quotes are literal", () => {
  assert.deepEqual(values(`A='a\\"b \\\\ #c $d'\n`), { A: 'a\\"b \\\\ #c $d' });
});

Deno.test('parse: double quotes take \\" and \\\\ as escapes, other backslashes stay', () => {
  assert.deepEqual(values(`A="say \\"hi\\" c:\\\\dir \\n 'x'"\n`), {
    A: `say "hi" c:\\dir \\n 'x'`,
  });
});

Deno.test("parse: an empty value, bare or quoted, is the empty string", () => {
  assert.deepEqual(values("A=\nB=''\nC=\"\"\nD=  \n"), { A: "", B: "", C: "", D: "" });
});

Deno.test("parse: blank lines and comments carry no key", () => {
  assert.deepEqual(parseEnvFile("\n \t\n# x=1\n  #y\n", SOURCE).map((line) => line.key), [
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
});

Deno.test("parse: an empty file has no lines", () => {
  assert.deepEqual(parseEnvFile("", SOURCE), []);
});

Deno.test("parse: a UTF-8 BOM at the start is not part of the first key", () => {
  assert.deepEqual(values("\uFEFFA=1\n"), { A: "1" });
});

Deno.test("parse: a key named export is still a key", () => {
  assert.deepEqual(values("export=1\nexport export=2\n"), { export: "2" });
});

Deno.test("envValues: the last of a repeated key wins", () => {
  assert.deepEqual(values("A=1\nB=x\nA=2\nexport A=3\n"), { A: "3", B: "x" });
});

Deno.test("parse: a bad key is a configuration error without the value", () => {
  assertRejected("A=1\n1KEY=secret-value\n", 2, "secret-value");
  assertRejected("A B=secret-value\n", 1, "secret-value");
  assertRejected("=secret-value\n", 1, "secret-value");
  assertRejected("K-EY=secret-value\n", 1, "secret-value");
});

Deno.test("parse: a line without = is a configuration error without its text", () => {
  assertRejected("A=1\n\nsecret-value\n", 3, "secret-value");
  assertRejected("export SECRET_VALUE\n", 1, "SECRET_VALUE");
});

Deno.test("parse: an unclosed double quote is a configuration error without the value", () => {
  assertRejected('INSTALL_TOKEN="secret-value\n', 1, "secret-value");
  assertRejected('A="secret-value\\"\n', 1, "secret-value");
});

Deno.test("parse: an unclosed single quote is a configuration error without the value", () => {
  assertRejected("A=1\r\nINSTALL_TOKEN='secret-value\r\n", 2, "secret-value");
});

Deno.test("parse: a stray quote inside an unquoted value is a configuration error", () => {
  assertRejected('A=secret"value\n', 1, "secret");
  assertRejected("A=secret'value\n", 1, "secret");
});

Deno.test("parse: an unescaped double quote inside double quotes is a configuration error", () => {
  assertRejected('A="secret"value"\n', 1, "secret");
});

Deno.test("parse: text after the closing quote is a configuration error", () => {
  assertRejected('A="secret-value" # comment\n', 1, "secret-value");
  assertRejected("A='secret-value'x\n", 1, "secret-value");
  assertRejected("A='secret'value'\n", 1, "secret");
});

Deno.test("parse: the error names the value's key but not the value", () => {
  assert.throws(
    () => parseEnvFile('INSTALL_TOKEN="secret-value\n', SOURCE),
    (error: unknown) =>
      error instanceof AgentError &&
      error.message ===
        `${SOURCE} line 1: the value of INSTALL_TOKEN opens a double quote that is not closed`,
  );
});

const BINDING = "5f".repeat(32);
const OTHER_BINDING = "a0".repeat(32);

function rotate(text: string, token = "rotated-token"): string {
  return rewriteEnvFile(parseEnvFile(text, SOURCE), { sensorToken: token });
}

function bind(text: string, binding = BINDING): string {
  return rewriteEnvFile(parseEnvFile(text, SOURCE), { hostBinding: binding });
}

Deno.test("rewrite: enrollment writes the host binding right after SENSOR_TOKEN", () => {
  assert.equal(
    withSensorToken(
      parseEnvFile("SENSOR_ID=s\nINSTALL_TOKEN=i\n", SOURCE),
      "durable-token",
      BINDING,
    ),
    `SENSOR_ID=s\n# INSTALL_TOKEN consumed during enrollment\nSENSOR_TOKEN=durable-token\nSENSOR_HOST_BINDING=${BINDING}\n`,
  );
});

Deno.test("rewrite: enrollment replaces another host's binding in place", () => {
  const before =
    `SENSOR_HOST_BINDING=${OTHER_BINDING}\r\nSENSOR_TOKEN=old-token-1\r\nINSTALL_TOKEN=i\r\n`;
  assert.equal(
    withSensorToken(parseEnvFile(before, SOURCE), "durable-token", BINDING),
    `SENSOR_HOST_BINDING=${BINDING}\nSENSOR_TOKEN=durable-token\n# INSTALL_TOKEN consumed during enrollment\r\n`,
  );
});

Deno.test("rewrite: enrollment on a host without a machine id removes a saved binding", () => {
  const before =
    `SENSOR_TOKEN=old-token-1\nSENSOR_HOST_BINDING=${OTHER_BINDING}\nINSTALL_TOKEN=i\n`;
  assert.equal(
    withSensorToken(parseEnvFile(before, SOURCE), "durable-token"),
    "SENSOR_TOKEN=durable-token\n# INSTALL_TOKEN consumed during enrollment\n",
  );
});

Deno.test("rotation: SENSOR_TOKEN replaced in place, every other line byte for byte", () => {
  const before =
    "# by hand\r\nexport SENSOR_TOKEN='old-token-1'\r\nINSTALL_TOKEN=next-install\r\n" +
    `SENSOR_HOST_BINDING=${BINDING}\r\nOTHER_TOOL=x # y`;
  assert.equal(
    rotate(before),
    "# by hand\r\nexport SENSOR_TOKEN=rotated-token\nINSTALL_TOKEN=next-install\r\n" +
      `SENSOR_HOST_BINDING=${BINDING}\r\nOTHER_TOOL=x # y`,
  );
});

Deno.test("rotation: later SENSOR_TOKEN lines go, or the old token would win at the next start", () => {
  assert.equal(
    rotate("SENSOR_TOKEN=older-token\nA=1\nSENSOR_TOKEN=old-token-1\n"),
    "SENSOR_TOKEN=rotated-token\nA=1\n",
  );
});

Deno.test("binding: added right after the SENSOR_TOKEN line of an older file", () => {
  assert.equal(
    bind("SENSOR_ID=s\nSENSOR_TOKEN=old-token-1\nBACKEND_URL=u\n"),
    `SENSOR_ID=s\nSENSOR_TOKEN=old-token-1\nSENSOR_HOST_BINDING=${BINDING}\nBACKEND_URL=u\n`,
  );
});

Deno.test("binding: a last SENSOR_TOKEN line without a newline gets the file's ending first", () => {
  assert.equal(
    bind("A=1\r\nSENSOR_TOKEN=old-token-1"),
    `A=1\r\nSENSOR_TOKEN=old-token-1\r\nSENSOR_HOST_BINDING=${BINDING}\n`,
  );
});

Deno.test("binding: a saved one is replaced in place, its export kept", () => {
  assert.equal(
    bind(`export SENSOR_HOST_BINDING=${OTHER_BINDING}\nSENSOR_TOKEN=old-token-1\n`),
    `export SENSOR_HOST_BINDING=${BINDING}\nSENSOR_TOKEN=old-token-1\n`,
  );
});

Deno.test("binding: anything but 64 lowercase hex digits is refused", () => {
  for (const bad of [BINDING.toUpperCase(), BINDING.slice(1), `${BINDING}\nA=1`]) {
    assert.throws(() => bind("SENSOR_TOKEN=old-token-1\n", bad), /64 lowercase hex/);
  }
});
