// tests/support/bundle.ts: the agent as it ships, one file. `deno task build` bundles main.ts and
// lib/ into dist/sensor-agent.js, which `deno task compile` then compiles; a test or the bench
// builds its own copy the same way into its own directory, so that parallel runs and the compile
// test never write one another's file.
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

/** The build task's argv (deno.json), its output moved to `output`. */
async function buildCommand(output: string): Promise<string[]> {
  const argv = (await taskCommand("build")).split(" ");
  const at = argv.indexOf(`--output=${BUNDLE_OUTPUT}`);
  if (argv[0] !== "deno" || at < 0) {
    throw new Error(`the build task no longer reads "deno … --output=${BUNDLE_OUTPUT} …"`);
  }
  argv[at] = `--output=${output}`;
  return argv;
}

/**
 * Builds the bundle as `deno task build` does, to `dir`/sensor-agent.js, with the Deno at `deno`
 * (this one unless given); returns its path.
 */
export async function buildBundle(dir: string, deno = Deno.execPath()): Promise<string> {
  const output = join(dir, "sensor-agent.js");
  const [, ...args] = await buildCommand(output);
  const build = await new Deno.Command(deno, { args, cwd: PROJECT }).output();
  if (!build.success) {
    throw new Error(`the build failed: ${new TextDecoder().decode(build.stderr).trim()}`);
  }
  return output;
}
