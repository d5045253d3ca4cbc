// tests/repo/layout_test.ts: the layout of README's Layout section, held against the real module
// graph (`deno info --json`: every import, static or dynamic, of code or of types alone). lib/ and
// reference-backend/ are each a chain of folders, top to bottom; each folder's mod.ts is its public
// face, and a folder imports only the faces of the folders below it. lib's own top-level files
// stand below its folders and import none; reference-backend's (main.ts, settings.ts, launch.ts)
// stand above its folders, and it imports lib/ only through faces. No file anywhere imports another
// folder's inner file (a folder's own tests, in tests/<folder>/ or tests/reference-backend/<folder>/,
// may), and no import cycle appears in the code the chains hold for.
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT } from "../support/agent.ts";
import { cyclesIn, type Graph, moduleGraph as graphOf } from "../support/modgraph.ts";

/** A directory of folders, each with a public face (mod.ts), ordered top to bottom. */
interface Layered {
  /** The directory, from the project's root. */
  readonly root: string;
  /** Its folders, top to bottom: a folder imports only the faces of the folders below it. */
  readonly chain: readonly string[];
  /** Where the directory's own files stand: below every folder (lib/log.ts), or above them. */
  readonly rootFiles: "bottom" | "top";
  /** Where the tests of its folders live: `<tests>/<folder>/` may import the folder's inner files. */
  readonly tests: string;
  /** The other directories its files may import (through their faces), besides itself. */
  readonly uses: readonly string[];
}

/** The layered directories. */
const LAYERED: readonly Layered[] = [
  {
    root: "lib",
    chain: ["commands", "backend", "host", "config", "store"],
    rootFiles: "bottom",
    tests: "tests",
    uses: [],
  },
  {
    // The process (main.ts, settings.ts, launch.ts) on top; the routes, then the console they
    // mount, the install one-liner's files, the HTTP front, and the store at the bottom.
    root: "reference-backend",
    chain: ["api", "console", "install", "http", "store"],
    rootFiles: "top",
    tests: "tests/reference-backend",
    uses: ["lib"],
  },
];

/** Where the modules of the graph are looked for: everything that imports lib/. */
const SCANNED = ["main.ts", "lib", "reference-backend", "scripts", "bench", "tests"];

/** The module graph of everything scanned. */
const moduleGraph = () => graphOf(SCANNED);

/** Where no import cycle may appear. */
const ACYCLIC = ["main.ts", "lib", "reference-backend", "scripts", "bench"];

/** Where a file stands in a layered directory: its folder (undefined for a top-level file). */
interface Place {
  readonly layered: Layered;
  readonly folder?: string;
  readonly face: boolean;
}

function placeOf(path: string): Place | undefined {
  for (const layered of LAYERED) {
    if (!path.startsWith(`${layered.root}/`)) continue;
    const rest = path.slice(layered.root.length + 1).split("/");
    if (rest.length === 1) return { layered, face: true };
    return { layered, folder: rest[0], face: rest.length === 2 && rest[1] === "mod.ts" };
  }
  return undefined;
}

/** A folder's rank in its chain, 0 at the top; top-level files rank below or above every folder. */
function rankOf(place: Place): number {
  const { chain, rootFiles } = place.layered;
  if (place.folder === undefined) return rootFiles === "bottom" ? chain.length : -1;
  return chain.indexOf(place.folder);
}

/** Every import of `graph` as "from -> to", for the rules to judge one by one. */
function* imports(graph: Graph): Generator<[string, string]> {
  for (const [from, targets] of graph) for (const to of targets) yield [from, to];
}

/** Why `from` may not import `to` through a folder's inner file, or undefined when it may. */
function innerFileProblem(from: string, to: string): string | undefined {
  const target = placeOf(to);
  if (target?.folder === undefined || target.face) return undefined;
  const { root, tests } = target.layered;
  const source = placeOf(from);
  if (source?.layered === target.layered && source.folder === target.folder) return undefined;
  if (from.startsWith(`${tests}/${target.folder}/`)) return undefined; // the folder's own tests
  return `${from} imports ${to}, an inner file of ${root}/${target.folder}/: ` +
    `import ${root}/${target.folder}/mod.ts instead`;
}

/** Why `from` may not import `to` by the chain's order, or undefined when it may. */
function directionProblem(from: string, to: string): string | undefined {
  const source = placeOf(from);
  if (source === undefined) return undefined; // main.ts, scripts/, bench/, tests/: faces only
  const { layered } = source;
  const target = placeOf(to);
  if (target?.layered !== layered) {
    const allowed = target !== undefined && layered.uses.includes(target.layered.root);
    return allowed
      ? undefined
      : `${from} imports ${to}: ${layered.root}/ imports only ${
        [layered.root, ...layered.uses].map((root) => `${root}/`).join(" and ")
      }`;
  }
  if (source.folder === target.folder) return undefined; // one folder, or two top-level files
  if (rankOf(target) > rankOf(source)) return undefined;
  const where = (place: Place) =>
    place.folder === undefined
      ? `a top-level file of ${layered.root}/`
      : `${layered.root}/${place.folder}/`;
  const order = layered.rootFiles === "bottom"
    ? [...layered.chain, "top-level files"]
    : ["top-level files", ...layered.chain];
  return `${from} imports ${to}: ${where(source)} may not import ${
    where(target)
  }, which is not below it (${order.join(" -> ")})`;
}

Deno.test("layout: every folder of lib/ and reference-backend/ is in its chain, with a mod.ts saying what it owns and never does", async () => {
  for (const layered of LAYERED) {
    const folders: string[] = [];
    for await (const entry of Deno.readDir(join(PROJECT, layered.root))) {
      if (entry.isDirectory) folders.push(entry.name);
    }
    assert.deepEqual(folders.sort(), [...layered.chain].sort(), `${layered.root}/'s folders`);
    for (const folder of layered.chain) {
      const face = `${layered.root}/${folder}/mod.ts`;
      const text = await Deno.readTextFile(join(PROJECT, face));
      const header = text.slice(0, text.search(/^(?!\/\/)/m));
      assert.match(header, new RegExp(`^// ${face}: `), `${face} names itself first`);
      assert.match(header, /\bOwns\b/, `${face}'s header says what the folder owns`);
      assert.match(header, /\bNever\b/, `${face}'s header says what the folder never does`);
    }
  }
});

Deno.test("layout: no file imports another folder's inner file, only its mod.ts", async () => {
  const problems = [...imports(await moduleGraph())]
    .map(([from, to]) => innerFileProblem(from, to))
    .filter((problem) => problem !== undefined);
  assert.deepEqual(problems, []);
});

Deno.test("layout: a folder imports only the folders below it in the chain", async () => {
  const problems = [...imports(await moduleGraph())]
    .map(([from, to]) => directionProblem(from, to))
    .filter((problem) => problem !== undefined);
  assert.deepEqual(problems, []);
});

Deno.test("layout: no import cycle in lib/, reference-backend/, main.ts, scripts/ or bench/", async () => {
  assert.deepEqual(cyclesIn(await moduleGraph(), ACYCLIC), []);
});

Deno.test("layout: the graph holds what the rules judge (every face, dynamic and type-only imports)", async () => {
  const graph = await moduleGraph();
  // A check that saw no modules, or only static code imports, would pass whatever the layout.
  for (const layered of LAYERED) {
    for (const folder of layered.chain) {
      assert.ok(graph.has(`${layered.root}/${folder}/mod.ts`), `${layered.root}/${folder}/mod.ts`);
    }
  }
  assert.ok(graph.get("lib/commands/mod.ts")?.has("lib/commands/dispatch.ts"), "a dynamic import");
  assert.ok(
    graph.get("lib/host/addresses.ts")?.has("lib/host/interfaces.ts"),
    "a type-only import",
  );
  assert.ok(graph.get("main.ts")?.has("lib/commands/mod.ts"), "main.ts and its imports");
  assert.ok(
    graph.get("reference-backend/main.ts")?.has("reference-backend/api/mod.ts"),
    "the backend's entry point and its imports",
  );
});
