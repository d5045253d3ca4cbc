// scripts/eager.ts: the last step of `deno task build`. Rewrites the bundle so that V8 compiles its
// top-level functions when it compiles the module, not at each function's first call.
//
// Why: Deno keeps a V8 code cache of every module it runs and makes it right after compiling the
// module, so the cache holds only what was compiled then: the top level, and the functions V8
// compiles eagerly. Every other function the agent calls would be parsed and compiled again,
// lazily, in every process. V8 compiles a function expression in parentheses eagerly, so each
// top-level declaration `function f(…) {…}` becomes `var f = (function (…) {…});`, placed at the
// top of the module in the same order: declarations are hoisted, and moving them above every
// other statement keeps each name bound before any code runs, as before. The expression has no
// name of its own, so that `f` inside it is still the module's binding (a named expression would
// bind a read-only `f` of its own); V8 names the function `f` from the assignment all the same.
// Each moved function keeps the bundler's `// lib/<path>` comment of its module above it, so a
// stack trace into the bundle still says which module a function came from. Without a cache (its
// first run, or `--no-code-cache`) the eager compile costs a little more than the lazy one
// (README.md, Deployment, gives the figures).
//
// Usage: deno run --allow-read=FILE --allow-write=FILE scripts/eager.ts FILE
import { parse } from "acorn";

/** A top-level statement as acorn gives it, with what the rewrite needs. */
interface Statement {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly id?: { readonly name: string; readonly start: number; readonly end: number } | null;
  readonly declaration?: { readonly type: string } | null;
}

/** The bundler's comment before each module's code: `// lib/host/sysfs.ts`, `// main.ts`. */
const MODULE_MARKER = /^ [\w./-]+\.[cm]?[jt]sx?$/;

/**
 * `source` (an ES module) with each top-level function declaration turned into an anonymous,
 * parenthesized function expression assigned to a `var` of the same name, all of them first (after
 * a hashbang line, if any), in their order, each group under its module's marker comment; the rest
 * of the text is kept as it was. Throws for an exported declaration (`export function`), which
 * cannot become a `var` in place: the bundler writes its exports as one list at the end.
 */
export function eagerFunctions(source: string): string {
  const markers: { start: number; text: string }[] = [];
  const program = parse(source, {
    ecmaVersion: "latest",
    sourceType: "module",
    onComment: (block: boolean, text: string, start: number) => {
      if (!block && MODULE_MARKER.test(text)) markers.push({ start, text: `//${text}` });
    },
  }) as unknown as { body: Statement[] };
  // Only the markers between statements: a comment inside a function is that function's.
  const inside = (at: number) => program.body.some((s) => s.start <= at && at < s.end);
  const modules = markers.filter((m) => !inside(m.start));
  const hashbang = source.startsWith("#!") ? source.slice(0, source.indexOf("\n") + 1) : "";
  const hoisted: string[] = [];
  let rest = "";
  let copiedTo = hashbang.length;
  let marker = -1; // the last marker before the statement
  let shownMarker = -1; // the last marker written among the hoisted
  for (const statement of program.body) {
    if (statement.declaration?.type === "FunctionDeclaration") {
      throw new Error(`an exported function declaration at offset ${statement.start}`);
    }
    if (statement.type !== "FunctionDeclaration") continue;
    while (marker + 1 < modules.length && modules[marker + 1].start < statement.start) marker++;
    if (marker !== shownMarker && marker >= 0) hoisted.push(`${modules[marker].text}\n`);
    shownMarker = marker;
    const id = statement.id!;
    const anonymous = source.slice(statement.start, id.start).trimEnd() + " " +
      source.slice(id.end, statement.end);
    hoisted.push(`var ${id.name} = (${anonymous});\n`);
    rest += source.slice(copiedTo, statement.start);
    copiedTo = statement.end;
  }
  return hashbang + hoisted.join("") + rest + source.slice(copiedTo);
}

if (import.meta.main) {
  const [path] = Deno.args;
  if (path === undefined) throw new Error("usage: scripts/eager.ts FILE");
  await Deno.writeTextFile(path, eagerFunctions(await Deno.readTextFile(path)));
}
