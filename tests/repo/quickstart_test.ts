// README's quick start is what a newcomer runs first: its first code block holds exactly the two
// lines (the demo, then the whole suite), .ci/run runs the second of them, and Deno's version is
// pinned in scripts/deno alone. Whether the two lines work on a fresh machine is measured by hand
// (README, "Quick start"); this keeps the text and the scripts from drifting apart.
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT } from "../support/agent.ts";
import { tempDir } from "../support/tempdir.ts";

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

Deno.test("quick start: Deno's version is pinned once, in scripts/deno; README and the image follow", async () => {
  const pins = [...launcher.matchAll(/^DENO_VERSION=(\S+)$/gm)].map((m) => m[1]);
  assert.equal(pins.length, 1);
  const [pin] = pins;
  assert.doesNotMatch(ciRun, /\d+\.\d+\.\d+/, ".ci/run names no version of its own");
  const named = new Set([...readme.matchAll(/\b(?:Deno |deno-)(\d+\.\d+\.\d+)/g)].map((m) => m[1]));
  assert.deepEqual([...named], [pin]);
  // The container build starts from Deno's image, whose tag must be the same version.
  const dockerfile = await Deno.readTextFile(join(PROJECT, "deploy", "Dockerfile"));
  const images = [...dockerfile.matchAll(/^FROM denoland\/deno:(\S+)/gm)].map((m) => m[1]);
  assert.deepEqual(images, [pin], "deploy/Dockerfile's denoland/deno tag");
});

/** Runs scripts/test.sh with `deno` standing for a program that prints `output` for `deno test`. */
async function testScriptWith(output: string, code = 0) {
  await using bin = await tempDir();
  const script = `#!/bin/sh\n[ "$1" = test ] || exit 0\nprintf '%s\\n' '${output}'\nexit ${code}\n`;
  await Deno.writeTextFile(bin.join("deno"), script, { mode: 0o755 });
  const run = await new Deno.Command("bash", {
    args: [join(PROJECT, "scripts", "test.sh")],
    env: { PATH: `${bin.path}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(run.stdout).trimEnd().split("\n");
  return { code: run.code, last: lines.at(-1), stderr: new TextDecoder().decode(run.stderr) };
}

Deno.test("quick start: the test task ends with the plain line, colours or not", async () => {
  const plain = await testScriptWith("ok | 3 passed (1 step) | 0 failed (1s)");
  assert.deepEqual([plain.code, plain.last], [0, "3 passed, 0 failed"], plain.stderr);
  const coloured = await testScriptWith(
    "\x1b[0m\x1b[31mFAILED\x1b[0m | 5 passed | 2 failed | 1 ignored \x1b[0m\x1b[38;5;245m(6s)\x1b[0m",
    1,
  );
  assert.deepEqual([coloured.code, coloured.last], [1, "5 passed, 2 failed"], coloured.stderr);
});

Deno.test("quick start: the test task fails when a test token shows in the output", async () => {
  const token = `install-${crypto.randomUUID()}`; // the shape of newToken(); never used elsewhere
  const run = await testScriptWith(`${token}\nok | 1 passed | 0 failed (1s)`);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /a test token appears in the test output/);
});
