// The agent runs with one set of V8 flags wherever it is started or built for use: the `start`
// task's. The compile task and every build step of the container must carry them (issue 24: the
// bench measures the `start` task's, and the binary is what ships), and every command in the docs'
// code blocks that starts or builds the agent (`deno run` or `deno compile` under -P=agent) must
// pass those same ones, so that a copied command builds the agent that was measured.
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT } from "../support/agent.ts";
import { dockerfileCompileSteps, taskCommand } from "../support/bundle.ts";

const FLAGS = /--v8-flags=(\S+)/;

async function text(path: string): Promise<string> {
  return await Deno.readTextFile(join(PROJECT, path));
}

/** The lines inside the fenced code blocks of a Markdown text, with their line numbers. */
function codeLines(markdown: string): [number, string][] {
  const lines: [number, string][] = [];
  let fenced = false;
  for (const [i, line] of markdown.split("\n").entries()) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    else if (fenced) lines.push([i + 1, line]);
  }
  return lines;
}

Deno.test("the start task, the compile task, the container build and the docs pass the same V8 flags", async () => {
  const start = FLAGS.exec(await taskCommand("start"))?.[1];
  assert.ok(start !== undefined, "the start task passes no --v8-flags");
  assert.ok(start.split(",").includes("--max-opt=2"), `the start task's flags are ${start}`);
  const compile = await taskCommand("compile");
  assert.equal(FLAGS.exec(compile)?.[1], start, "the compile task's V8 flags differ");
  const builds = await dockerfileCompileSteps();
  assert.ok(builds.length > 0, "deploy/Dockerfile no longer compiles the agent");
  for (const line of builds) assert.equal(FLAGS.exec(line)?.[1], start, `Dockerfile: ${line}`);
  let seen = 0;
  const docs = [
    "README.md",
    ...[...Deno.readDirSync(join(PROJECT, "docs"))]
      .filter((entry) => entry.name.endsWith(".md")).map((entry) => `docs/${entry.name}`),
  ];
  for (const doc of docs) {
    for (const [n, line] of codeLines(await text(doc))) {
      if (!/\bdeno (run|compile)\b.*-P=agent\b/.test(line)) continue;
      seen++;
      assert.equal(FLAGS.exec(line)?.[1], start, `${doc}:${n} passes other V8 flags, or none`);
    }
  }
  assert.ok(seen >= 2, "the docs no longer show the compile command");
});
