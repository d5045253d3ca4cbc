// The agent runs with one set of V8 flags wherever it is started or built: the `start` task's. The
// compile task and the container build must carry them (issue 24: the bench measures the `start`
// task's, and the binary is what ships), and every command in the docs that passes V8 flags to the
// agent must pass those same ones, so that a copied command builds the agent that was measured.
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT } from "../support/agent.ts";

const FLAGS = /--v8-flags=(\S+)/;

async function text(path: string): Promise<string> {
  return await Deno.readTextFile(join(PROJECT, path));
}

Deno.test("the start task, the compile task, the container build and the docs pass the same V8 flags", async () => {
  const tasks = JSON.parse(await text("deno.json")).tasks as Record<string, string>;
  const start = FLAGS.exec(tasks.start)?.[1];
  assert.ok(start !== undefined, "the start task passes no --v8-flags");
  assert.ok(start.split(",").includes("--max-opt=2"), `the start task's flags are ${start}`);
  const places: [string, string][] = [
    ["the compile task", tasks.compile],
    ["deploy/Dockerfile", await text("deploy/Dockerfile")],
  ];
  for (const [name, line] of places) {
    assert.equal(FLAGS.exec(line)?.[1], start, `${name} does not pass the start task's V8 flags`);
  }
  let seen = 0;
  for (const doc of ["README.md", "docs/threat-model.md", "docs/systemd.md", "docs/install.md"]) {
    for (const [i, line] of (await text(doc)).split("\n").entries()) {
      if (!/-P=agent/.test(line) || !FLAGS.test(line)) continue;
      seen++;
      assert.equal(FLAGS.exec(line)![1], start, `${doc}:${i + 1} passes other V8 flags`);
    }
  }
  assert.ok(seen >= 2, "the docs no longer show the compile command with its V8 flags");
});
