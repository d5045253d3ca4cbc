// The command line (lib/commands/args.ts), parsed without node:util: the same strictness as before.
import assert from "node:assert/strict";
import { parseInvocation, UsageProblem } from "../../lib/commands/args.ts";
import { DEFAULT_CONFIG_PATH } from "../../lib/config/mod.ts";
import { DEFAULT_CONFIG_PATH as USAGE_DEFAULT } from "../../main.ts";

Deno.test("args: the command and every option, in either spelling of --config", () => {
  assert.deepEqual(parseInvocation(["enroll", "--force", "--config", "/a.env"]), {
    command: "enroll",
    configPath: "/a.env",
    force: true,
    check: false,
    help: false,
    version: false,
  });
  assert.equal(parseInvocation(["status", "--config=/b.env", "--check"]).configPath, "/b.env");
  assert.equal(parseInvocation([]).command, "run");
  assert.equal(parseInvocation(["-h"]).help, true);
  assert.equal(parseInvocation(["--version"]).version, true);
  assert.deepEqual(parseInvocation(["--", "inventory"]).command, "inventory");
});

Deno.test("args: what the old parser refused is still refused", () => {
  for (
    const args of [
      ["frobnicate"],
      ["run", "--verbose"],
      ["enroll", "now"],
      ["run", "--force"],
      ["run", "--config"],
      ["run", "--config="],
      ["--force=yes", "enroll"],
      ["-x"],
      ["--h"],
      ["-help"],
    ]
  ) {
    assert.throws(() => parseInvocation(args), UsageProblem, args.join(" "));
  }
});

Deno.test("args: the usage names the same default config path as lib/config/load.ts", () => {
  assert.equal(USAGE_DEFAULT, DEFAULT_CONFIG_PATH);
});
