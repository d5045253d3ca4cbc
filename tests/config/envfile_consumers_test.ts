// The SENSOR_TOKEN line the agent writes must read as that one assignment to every consumer the
// docs name for the env file: the agent itself, systemd's EnvironmentFile=, Docker/compose
// env_file and `sh` sourcing. A file where one of them would read something else is refused with
// a 78 naming the line, before the install token is spent; in any other file the token line ends
// in LF, which all of them read alike. `sh` is run for real; systemd and Docker are not on this
// machine, so their rules are the ones docs/configuration.md spells out ("Who reads the file").
import assert from "node:assert/strict";
import { newToken, runAgent } from "../support/agent.ts";
import { enrolled, startBackend } from "../support/backend.ts";
import { listing, seed } from "../support/seed.ts";

/** What `sh` sees as SENSOR_TOKEN after sourcing `path` (compared, never printed). */
async function shReads(path: string): Promise<string> {
  const output = await new Deno.Command("sh", {
    args: ["-c", '. "$1" && printf %s "$SENSOR_TOKEN"', "sh", path],
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin" },
  }).output();
  assert.equal(output.code, 0, "sh could not source the file");
  return new TextDecoder().decode(output.stdout);
}

const HAZARDS = [
  { name: "a line ending in a backslash", text: (rest: string) => `${rest}# C:\\\n`, line: 4 },
  {
    name: "a carriage return inside a line",
    text: (rest: string) => `NOTE=a\rSENSOR_TOKEN=forged-token\n${rest}`,
    line: 1,
  },
];

for (const hazard of HAZARDS) {
  Deno.test(`env file: ${hazard.name} is a 78 naming the line, before the token is spent`, async () => {
    await using backend = startBackend(() => enrolled(newToken("sensor")));
    const s = await seed(backend.url);
    await using _ = s.dir;
    const text = hazard.text(s.before);
    await Deno.writeTextFile(s.config, text);
    const before = await listing(s.dir.path);
    const run = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(run.code, 78, run.stderr);
    assert.match(run.stderr, new RegExp(`sensor-agent\\.env line ${hazard.line} `));
    assert.match(run.stderr, /the install token is not spent/);
    assert.equal(backend.requests.length, 0);
    assert.equal(await Deno.readTextFile(s.config), text);
    assert.deepEqual(await listing(s.dir.path), before, "no lock or temp file");
  });
}

for (
  const [name, shape] of [
    ["CRLF line endings", (text: string) => text.replaceAll("\n", "\r\n")],
    ["no final newline", (text: string) => text.trimEnd()],
    // The file is decoded as text without its BOM, so the rewrite drops it: sh reads SENSOR_ID.
    ["a UTF-8 byte order mark", (text: string) => `\uFEFF${text}`],
    ["an existing CRLF SENSOR_TOKEN line", (text: string) => `${text}SENSOR_TOKEN=\r\n`],
  ] as const
) {
  Deno.test(`env file: with ${name}, sh reads the saved SENSOR_TOKEN exactly`, async () => {
    const sensorToken = newToken("sensor");
    await using backend = startBackend(() => enrolled(sensorToken));
    const s = await seed(backend.url);
    await using _ = s.dir;
    await Deno.writeTextFile(s.config, shape(s.before));
    const run = await runAgent(["enroll", "--force", ...s.args], s.options);
    assert.equal(run.code, 0, run.stderr);
    const saved = await Deno.readTextFile(s.config);
    assert.ok(saved.includes(`\nSENSOR_TOKEN=${sensorToken}\n`), "the token line ends in LF");
    assert.ok((await shReads(s.config)) === sensorToken, "sh reads another SENSOR_TOKEN");
    assert.ok(!saved.startsWith("\uFEFF"), "no byte order mark left");
    // and the agent itself reads the same: enrolled, nothing sent.
    const again = await runAgent(["enroll", ...s.args], s.options);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(backend.requests.length, 1);
  });
}
