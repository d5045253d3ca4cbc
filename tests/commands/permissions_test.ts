// Dropping permissions after startup (lib/commands/permissions.ts), in a subprocess with real
// grants: the environment goes; write and read of the config directory stay, for a rotated token
// and the host binding; the host files stay readable.
import assert from "node:assert/strict";
import { PROJECT } from "../support/agent.ts";
import { tempDir } from "../support/tempdir.ts";

/** Runs dropStartupPermissions in a child with `read` granted, and reports what it can read after. */
async function dropWith(read: string[], dir: string, roots = `${dir}/host`, all = false) {
  const script = `
    import { dropStartupPermissions } from "${PROJECT}/lib/commands/permissions.ts";
    const config = { configPath: "${dir}/conf/agent.env", hostnameFile: "${dir}/host/hostname",
      osReleaseFile: "${dir}/host/os-release", roots: { proc: "${roots}", sys: "${roots}" } };
    const dropped = await dropStartupPermissions(config);
    const state = async (name, path) => (await Deno.permissions.query({ name, path })).state;
    console.log(JSON.stringify({ dropped, host: await state("read", "${dir}/host/hostname"),
      conf: await state("read", "${dir}/conf/agent.env"),
    write: await state("write", "${dir}/conf/.agent.env.1.tmp"),
      env: (await Deno.permissions.query({ name: "env" })).state }));`;
  // `deno eval` would run with every permission: the script must be a file for `deno run`.
  const file = `${dir}/drop.ts`;
  await Deno.writeTextFile(file, script);
  const grants = all
    ? ["--allow-all"]
    : [`--allow-read=${read.join(",")},${PROJECT}`, `--allow-write=${dir}/conf`, "--allow-env"];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "--no-prompt", ...grants, file],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("permissions: env is revoked; write and read of the config dir stay for rotation", async () => {
  await using dir = await tempDir();
  const result = await dropWith([`${dir.path}/conf`, `${dir.path}/host`], dir.path);
  assert.deepEqual(result, {
    dropped: ["env"],
    host: "granted",
    conf: "granted",
    write: "granted",
    env: "prompt",
  });
});

Deno.test("permissions: with every permission and the machine's own /proc, nothing is revoked", async () => {
  await using dir = await tempDir();
  const result = await dropWith([], dir.path, "/proc", true);
  assert.deepEqual(result.dropped, []);
  assert.equal(result.env, "granted");
});
