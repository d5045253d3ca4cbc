// tests/support/bundle.ts: the agent as it ships, one file. `deno task build` bundles main.ts and
// lib/ into dist/sensor-agent.js and marks its functions for eager compilation (scripts/eager.ts),
// and `deno task compile` then compiles it. A test or the bench builds its own copy the same way
// into its own directory, so that parallel runs and the compile test never write one another's
// file.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Not agent.ts's: the bench's runner imports this module under a narrow permission set.
const PROJECT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** Where the build task writes the bundle, as its command names it. */
export const BUNDLE_OUTPUT = "dist/sensor-agent.js";

/** A deno.json task's command line, whether the task is written as a string or as an object. */
export async function taskCommand(name: string): Promise<string> {
  const task = JSON.parse(await Deno.readTextFile(join(PROJECT, "deno.json"))).tasks[name];
  return typeof task === "string" ? task : task.command;
}

/**
 * The RUN instructions of deploy/Dockerfile that run `deno compile`, each on one line (its
 * continuation lines joined).
 */
export async function dockerfileCompileSteps(): Promise<string[]> {
  const dockerfile = await Deno.readTextFile(join(PROJECT, "deploy", "Dockerfile"));
  return dockerfile.replaceAll("\\\n", " ").split("\n").filter((l) =>
    /^RUN .*deno compile/.test(l)
  );
}

/**
 * The argv of each step of `deno task build` (deno.json): the `bundle` task it depends on, then its
 * own command (scripts/eager.ts), each with the bundle's path moved to `output`.
 */
async function buildSteps(output: string): Promise<string[][]> {
  const steps = [];
  for (const task of ["bundle", "build"]) {
    const line = await taskCommand(task);
    if (!line.startsWith("deno ") || !line.includes(BUNDLE_OUTPUT)) {
      throw new Error(`the ${task} task no longer reads "deno … ${BUNDLE_OUTPUT} …"`);
    }
    // Split first: an output path may hold a space.
    steps.push(line.split(" ").map((arg) => arg.replaceAll(BUNDLE_OUTPUT, output)));
  }
  return steps;
}

/**
 * Builds the bundle as `deno task build` does, to `dir`/sensor-agent.js, with the Deno at `deno`
 * (this one unless given); returns its path.
 */
export async function buildBundle(dir: string, deno = Deno.execPath()): Promise<string> {
  const output = join(dir, "sensor-agent.js");
  for (const [, ...args] of await buildSteps(output)) {
    const step = await new Deno.Command(deno, { args, cwd: PROJECT }).output();
    if (!step.success) {
      throw new Error(`the build failed: ${new TextDecoder().decode(step.stderr).trim()}`);
    }
  }
  return output;
}
