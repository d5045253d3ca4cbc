// The agent ships as one file: `deno task build` bundles main.ts and lib/ into dist/sensor-agent.js,
// which `deno task compile` compiles. The rest of the suite runs main.ts from its modules; here the
// bundle, built as the task builds it, must stand alone and do what main.ts does, run for run.
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "acorn";
import { newToken, PROJECT, runAgent, startAgent } from "../support/agent.ts";
import {
  beatAccepted,
  enrolled,
  routes,
  type SeenRequest,
  startBackend,
  waitForRequest,
} from "../support/backend.ts";
import { buildBundle, BUNDLE_OUTPUT, dockerfileCompileSteps } from "../support/bundle.ts";
import { seed } from "../support/seed.ts";
import { tempDir } from "../support/tempdir.ts";

/** main.ts, run from its modules (whatever TEST_AGENT_MAIN gives the rest of the suite). */
const MODULES = join(PROJECT, "main.ts");

/**
 * `text` without what differs between two runs of the same code: the dir, times, durations, and
 * the sensor id the backend makes up for each enrollment.
 */
function comparable(text: string, dir: string): string {
  return text.replaceAll(dir, "<dir>").replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>")
    .replace(/\d+(\.\d+)? ?ms\b/g, "<ms>").replace(/sensorId=[\w-]+/g, "sensorId=<id>");
}

Deno.test("bundle: one module with nothing to import and no source map", async () => {
  await using dir = await tempDir();
  const text = await Deno.readTextFile(await buildBundle(dir.path));
  assert.doesNotMatch(
    text,
    /^\s*(import|export)\b.*\bfrom\s*["']|^\s*import\s*["']/m,
    "a static import is left",
  );
  assert.doesNotMatch(text, /\bimport\s*\(/, "a dynamic import is left");
  assert.doesNotMatch(text, /sourceMappingURL/, "a source map is attached");
  // Built outside the project and run from there: an import left behind would not be found.
  const run = await runAgent(["--version"], { main: `${dir.path}/sensor-agent.js` });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "sensor-agent 2.0.0\n");
});

Deno.test("bundle: inventory, enroll and status give what main.ts gives", async () => {
  await using built = await tempDir();
  const bundle = await buildBundle(built.path);
  const installToken = newToken("install");
  const sensorToken = newToken("sensor");
  await using backend = startBackend(() => enrolled(sensorToken));
  const results = [];
  for (const main of [MODULES, bundle]) {
    const s = await seed(backend.url, installToken);
    await using _ = s.dir;
    const options = { ...s.options, main };
    const inventory = await runAgent(["inventory", ...s.args], options);
    const enroll = await runAgent(["enroll", ...s.args], options);
    const status = await runAgent(["status", ...s.args], options);
    const saved = await Deno.readTextFile(s.config);
    results.push({
      codes: [inventory.code, enroll.code, status.code],
      inventory: inventory.stdout,
      enroll: comparable(enroll.stdout + enroll.stderr, s.dir.path),
      status: comparable(status.stdout + status.stderr, s.dir.path),
      saved,
    });
  }
  const [fromModules, fromBundle] = results;
  assert.deepEqual(fromModules.codes, [0, 0, 0], JSON.stringify(fromModules));
  assert.ok(fromModules.saved.includes(`SENSOR_TOKEN=${sensorToken}\n`));
  assert.deepEqual(fromBundle, fromModules);
  // Both posted the same enrollment, Idempotency-Key included.
  const [first, second] = backend.requests;
  assert.equal(backend.requests.length, 2);
  assert.equal(second.body, first.body);
  assert.equal(second.headers.get("idempotency-key"), first.headers.get("idempotency-key"));
});

Deno.test("bundle: run enrolls, beats and stops on SIGTERM as main.ts does", async () => {
  await using built = await tempDir();
  const bundle = await buildBundle(built.path);
  const installToken = newToken("install");
  const sensorToken = newToken("sensor");
  await using backend = startBackend(
    routes(() => enrolled(sensorToken, 1), () => beatAccepted(1)),
  );
  const results = [];
  for (const main of [MODULES, bundle]) {
    const s = await seed(backend.url, installToken);
    await using _ = s.dir;
    const from = backend.requests.length;
    const agent = startAgent(["run", ...s.args], { ...s.options, main });
    const isBeat = (request: SeenRequest) => request.path.endsWith("/heartbeat");
    const secondBeat = (request: SeenRequest) =>
      backend.requests.slice(from).filter(isBeat)[1] === request;
    const beat = await waitForRequest(backend, secondBeat);
    const run = await agent.stop("SIGTERM");
    const body = JSON.parse(beat.body);
    results.push({
      code: run.code,
      requests: backend.requests.slice(from, from + 3).map((r) => `${r.method} ${r.path}`),
      headers: [...beat.headers.keys()].filter((name) => !/^(content-length|host)$/.test(name)),
      fields: Object.keys(body),
      interfaces: body.interfaces?.map((i: { name: string }) => i.name),
      saved: await Deno.readTextFile(s.config),
    });
  }
  assert.equal(results[0].code, 0, JSON.stringify(results[0]));
  assert.deepEqual(results[0].requests, [
    "POST /api/sensors/enroll",
    "POST /api/sensors/heartbeat",
    "POST /api/sensors/heartbeat",
  ]);
  assert.ok(results[0].interfaces.length > 0 && results[0].saved.includes("SENSOR_TOKEN="));
  assert.deepEqual(results[1], results[0]);
});

Deno.test("bundle: a config that is not a file fails as main.ts fails", async () => {
  await using built = await tempDir();
  const bundle = await buildBundle(built.path);
  const runs = [];
  for (const main of [MODULES, bundle]) {
    const s = await seed("http://127.0.0.1:9");
    await using _ = s.dir;
    await Deno.remove(s.config);
    await Deno.mkdir(s.config);
    const run = await runAgent(["enroll", ...s.args], { ...s.options, main });
    runs.push({ code: run.code, stderr: comparable(run.stderr, s.dir.path) });
  }
  assert.equal(runs[0].code, 78, runs[0].stderr);
  assert.deepEqual(runs[1], runs[0]);
});

/** The functions of `script` that V8 logged `event` for, by where each ends in the file. */
function loggedEnds(v8Log: string, script: string, event: string): Set<number> {
  const rows = v8Log.split("\n").map((line) => line.split(","));
  const id = rows.find((row) => row[0] === "script-details" && row[2] === `file://${script}`)?.[1];
  assert.ok(id !== undefined, `V8's log names no script ${script}`);
  // function,<event>,<script>,<start>,<end>,…
  return new Set(
    rows.filter((row) => row[0] === "function" && row[1] === event && row[2] === id)
      .map((row) => Number(row[4])),
  );
}

/** Where each top-level function of the module `source` ends, declared or assigned to a var. */
function topLevelFunctionEnds(source: string): number[] {
  const program = parse(source, { ecmaVersion: "latest", sourceType: "module" }) as unknown as {
    body: {
      type: string;
      end: number;
      declarations?: { init?: { type: string; end: number } }[];
    }[];
  };
  return program.body.flatMap((node) =>
    node.type === "FunctionDeclaration"
      ? [node.end]
      : (node.declarations ?? []).flatMap(({ init }) =>
        init?.type === "FunctionExpression" ? [init.end] : []
      )
  );
}

Deno.test("bundle: V8 compiles its top-level functions with the module, for the code cache", async () => {
  await using built = await tempDir();
  const bundle = await buildBundle(built.path);
  const s = await seed("http://127.0.0.1:9");
  await using _ = s.dir;
  const log = join(built.path, "v8.log");
  const run = await runAgent(["inventory", ...s.args], {
    ...s.options,
    main: bundle,
    // Compiled afresh, not taken from a code cache, so that V8 logs each compile; no bytecode
    // flushed after a few collections either, whose recompile would be logged as lazy.
    denoFlags: [
      "--no-code-cache",
      `--v8-flags=--log-function-events,--logfile=${log},--no-logfile-per-isolate,--no-flush-bytecode`,
    ],
  });
  assert.equal(run.code, 0, run.stderr);
  const v8Log = await Deno.readTextFile(log);
  const topLevel = topLevelFunctionEnds(await Deno.readTextFile(bundle));
  const compiled = loggedEnds(v8Log, bundle, "interpreter"); // made into bytecode, eagerly or not
  assert.ok(
    topLevel.filter((end) => compiled.has(end)).length > 20,
    "the log misses the functions",
  );
  // Compiled at its first call ("parse-function"): the closures inside functions still are.
  const lazy = loggedEnds(v8Log, bundle, "parse-function");
  assert.ok(lazy.size > 0, "V8 logged no lazy compile at all");
  assert.deepEqual(topLevel.filter((end) => lazy.has(end)), []);
});

Deno.test("bundle: the compile task and the container build compile the bundle", async () => {
  const { build, compile } = JSON.parse(await Deno.readTextFile(join(PROJECT, "deno.json"))).tasks;
  assert.deepEqual(build.dependencies, ["bundle"]);
  assert.match(build.command, new RegExp(` scripts/eager\\.ts ${BUNDLE_OUTPUT}$`));
  assert.deepEqual(compile.dependencies, ["build"]);
  assert.match(compile.command, new RegExp(`^deno compile .* ${BUNDLE_OUTPUT}$`));
  const [run] = await dockerfileCompileSteps();
  assert.match(
    run ?? "",
    new RegExp(`^RUN deno task -q build +&& deno compile .* ${BUNDLE_OUTPUT} `),
  );
});
