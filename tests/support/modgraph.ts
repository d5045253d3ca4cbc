// tests/support/modgraph.ts: the project's module graph as `deno info --json` sees it (every
// import, static or dynamic, of code or of types alone, between the project's own modules) and the
// import cycles in it, for tests/repo/layout_test.ts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT } from "./agent.ts";

/** Project path -> the project paths it imports (code or types, static or dynamic). */
export type Graph = Map<string, Set<string>>;

/** The project's .ts files under `paths`, fixtures aside. */
async function sourceFiles(paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const visit = async (path: string): Promise<void> => {
    const info = await Deno.stat(join(PROJECT, path));
    if (info.isFile) {
      if (path.endsWith(".ts")) found.push(path);
      return;
    }
    if (path === "tests/fixtures") return;
    for await (const entry of Deno.readDir(join(PROJECT, path))) {
      await visit(`${path}/${entry.name}`);
    }
  };
  for (const path of paths) await visit(path);
  return found.sort();
}

const graphs = new Map<string, Promise<Graph>>();

/**
 * The module graph of every .ts file under `paths` (project-relative), as `deno info --json` sees
 * it, limited to modules under `paths`; built once per run for each list.
 */
export function moduleGraph(paths: readonly string[]): Promise<Graph> {
  const key = paths.join("\n");
  let graph = graphs.get(key);
  if (graph !== undefined) return graph;
  graph = (async () => {
    const files = await sourceFiles(paths);
    const dir = await Deno.makeTempDir({ prefix: "layout-" });
    try {
      const entry = join(dir, "every_module.ts");
      const url = (path: string) => new URL(`file://${join(PROJECT, path)}`).href;
      await Deno.writeTextFile(
        entry,
        files.map((f) => `import ${JSON.stringify(url(f))};\n`).join(""),
      );
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["info", "--json", "--config", join(PROJECT, "deno.json"), entry],
        cwd: PROJECT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      const info = JSON.parse(new TextDecoder().decode(output.stdout));
      return graphOf(info.modules, paths);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
  graphs.set(key, graph);
  return graph;
}

interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly {
    readonly code?: { readonly specifier: string };
    readonly type?: { readonly specifier: string };
  }[];
}

/** The project's own modules and their imports, from `deno info`'s module list. */
function graphOf(modules: readonly InfoModule[], paths: readonly string[]): Graph {
  const root = new URL(`file://${PROJECT}/`).href;
  const own = (specifier: string | undefined) =>
    specifier?.startsWith(root) ? decodeURIComponent(specifier.slice(root.length)) : undefined;
  const result: Graph = new Map();
  for (const module of modules) {
    const from = own(module.specifier);
    if (from === undefined || !paths.some((p) => from === p || from.startsWith(`${p}/`))) {
      continue;
    }
    const to = new Set<string>();
    for (const dependency of module.dependencies ?? []) {
      for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
        const path = own(target);
        if (path !== undefined) to.add(path);
      }
    }
    result.set(from, to);
  }
  return result;
}

/** The import cycles of `graph` that pass through `scope`, each as "a -> b -> ... -> a". */
export function cyclesIn(graph: Graph, scope: readonly string[]): string[] {
  // Tarjan's strongly connected components: each of more than one module (or a module importing
  // itself) holds a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) connect(node);
  const inScope = (path: string) => scope.some((p) => path === p || path.startsWith(`${p}/`));
  return components
    .filter((c) => (c.length > 1 || graph.get(c[0])?.has(c[0])) && c.some(inScope))
    .map((component) => cycleThrough(graph, component.sort()));
}

/** One cycle inside `component` (a strongly connected component), from its first member. */
function cycleThrough(graph: Graph, component: readonly string[]): string {
  const members = new Set(component);
  const start = component[0];
  const path = [start];
  const seen = new Set([start]);
  for (;;) {
    const targets = [...graph.get(path[path.length - 1]) ?? []].filter((t) => members.has(t));
    if (targets.includes(start)) return [...path, start].join(" -> ");
    const next = targets.find((t) => !seen.has(t)) ?? targets[0];
    path.push(next);
    seen.add(next);
  }
}
