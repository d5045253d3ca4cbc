// scripts/eager.ts, the build's last step: the bundle's top-level function declarations become
// parenthesized function expressions, which V8 compiles with the module, and the module still
// does what it did.
import assert from "node:assert/strict";
import { join } from "node:path";
import { eagerFunctions } from "../../scripts/eager.ts";
import { tempDir } from "../support/tempdir.ts";

/** A module in the bundler's shape: helpers, declarations, code calling them from above. */
const MODULE = `// lib/a.ts
var calls = [];
const early = twice(2); // called above its declaration: hoisting must still bind it
function twice(n) {
  calls.push("twice");
  return n * 2;
}
async function later(n) {
  return twice(n) + 1;
}
function* count(n) {
  for (let i = 0; i < n; i++) yield i;
}
const text = "function notADeclaration() {}";
class Kept {
  method() {
    return twice(5);
  }
}
var result = { early, later: await later(3), count: [...count(3)], text, kept: new Kept().method(), calls };
export { result, twice };
`;

/** What `source` exports as `result`, imported from a file of its own. */
async function evaluated(source: string, dir: string, name: string): Promise<unknown> {
  const path = join(dir, `${name}.js`);
  await Deno.writeTextFile(path, source);
  return (await import(`file://${path}`)).result;
}

Deno.test("eager: each top-level declaration becomes a parenthesized expression, first, in order", () => {
  const eager = eagerFunctions(MODULE);
  assert.ok(
    eager.startsWith(
      "// lib/a.ts\n" +
        "var twice = (function (n) {\n" +
        '  calls.push("twice");\n  return n * 2;\n});\n' +
        "var later = (async function (n) {\n  return twice(n) + 1;\n});\n" +
        "var count = (function* (n) {",
    ),
    eager.slice(0, 300),
  );
  assert.doesNotMatch(eager, /^(async )?function/m);
  // The rest is kept as it was, strings and methods included.
  assert.ok(eager.includes('const text = "function notADeclaration() {}";'));
  assert.ok(eager.includes("class Kept {\n  method() {\n    return twice(5);\n  }\n}"));
});

Deno.test("eager: each moved function stays under its module's comment, not a comment inside one", () => {
  const source =
    "#!/usr/bin/env -S deno run\n// lib/a.ts\nfunction a() {\n  // lib/not-a-marker.ts\n  return 1;\n}\n" +
    "function b() {\n  return 2;\n}\n\n// lib/c.ts\nvar c = a() + b();\nfunction d() {\n  return c;\n}\n";
  assert.equal(
    eagerFunctions(source),
    "#!/usr/bin/env -S deno run\n" +
      "// lib/a.ts\nvar a = (function () {\n  // lib/not-a-marker.ts\n  return 1;\n});\n" +
      "var b = (function () {\n  return 2;\n});\n" +
      "// lib/c.ts\nvar d = (function () {\n  return c;\n});\n" +
      "// lib/a.ts\n\n\n\n// lib/c.ts\nvar c = a() + b();\n\n",
  );
});

Deno.test("eager: a function keeps its name, and its name inside it is the module's binding", async () => {
  await using dir = await tempDir();
  const source = `function counter() {
  counter = () => "replaced"; // a function may reassign its own name
  return "first";
}
function fact(n) {
  return n <= 1 ? 1 : n * fact(n - 1);
}
const first = counter();
const second = counter();
var result = { name: fact.name, first, second, fact: fact(5) };
export { result };
`;
  const expected = { name: "fact", first: "first", second: "replaced", fact: 120 };
  assert.deepEqual(await evaluated(source, dir.path, "plain"), expected);
  assert.deepEqual(await evaluated(eagerFunctions(source), dir.path, "eager"), expected);
});

Deno.test("eager: the rewritten module computes what the original computes", async () => {
  await using dir = await tempDir();
  const original = await evaluated(MODULE, dir.path, "original");
  assert.deepEqual(original, {
    early: 4,
    later: 7,
    count: [0, 1, 2],
    text: "function notADeclaration() {}",
    kept: 10,
    calls: ["twice", "twice", "twice"],
  });
  assert.deepEqual(await evaluated(eagerFunctions(MODULE), dir.path, "eager"), original);
});

Deno.test("eager: a rewritten module is left as it is", () => {
  const once = eagerFunctions(MODULE);
  assert.equal(eagerFunctions(once), once);
});

Deno.test("eager: an exported declaration is refused, not half rewritten", () => {
  assert.throws(
    () => eagerFunctions("export function f() {}\n"),
    /an exported function declaration at offset 0/,
  );
});
