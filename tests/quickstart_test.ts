// README's quick start is what a newcomer runs first: its first code block holds exactly the two
// lines (the demo, then the whole suite), .ci/run runs the second of them, and Deno's version is
// pinned in scripts/deno alone. Whether the two lines work on a fresh machine is measured by hand
// (README, "Quick start"); this keeps the text and the scripts from drifting apart.
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT } from "./support/agent.ts";

const readme = await Deno.readTextFile(join(PROJECT, "README.md"));
const ciRun = await Deno.readTextFile(join(PROJECT, ".ci", "run"));
const launcher = await Deno.readTextFile(join(PROJECT, "scripts", "deno"));

/** The lines of the first fenced code block of the `## Quick start` section. */
function quickStart(): string[] {
  const sections = readme.split(/^## /m);
  assert.match(sections[1] ?? "", /^Quick start\n/, "README's first section is Quick start");
  const block = /^```\w*\n([\s\S]*?)^```/m.exec(sections[1]);
  assert.ok(block, "Quick start has a code block");
  return block[1].trimEnd().split("\n");
}

Deno.test("quick start: two lines, the demo then the whole test suite", () => {
  const lines = quickStart();
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines[0], /\btask demo$/);
  assert.match(lines[1], /\btask test$/);
});

Deno.test("quick start: .ci/run runs the second line's command", () => {
  const [, tests] = quickStart();
  const commands = ciRun.split("\n").filter((line) => !line.trimStart().startsWith("#"));
  assert.ok(commands.some((line) => line.trim().endsWith(tests)), ciRun);
});

Deno.test("quick start: Deno's version is pinned once, in scripts/deno, and README names that one", () => {
  const pins = [...launcher.matchAll(/^DENO_VERSION=(\S+)$/gm)].map((m) => m[1]);
  assert.equal(pins.length, 1);
  const [pin] = pins;
  assert.doesNotMatch(ciRun, /\d+\.\d+\.\d+/, ".ci/run names no version of its own");
  const named = new Set([...readme.matchAll(/\b(?:Deno |deno-)(\d+\.\d+\.\d+)/g)].map((m) => m[1]));
  assert.deepEqual([...named], [pin]);
});
