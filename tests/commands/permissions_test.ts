// Dropping permissions after startup (lib/commands/permissions.ts), in a subprocess with real
// grants: Deno revokes the whole grant covering a path, so a wide grant must be kept to keep the
// host files.
import assert from "node:assert/strict";
import { PROJECT } from "../support/agent.ts";
import { tempDir } from "../support/tempdir.ts";

/** Runs dropStartupPermissions in a child with `read` granted, and reports what it can read after. */
async function dropWith(read: string[], dir: string) {
  const script = `
    import { dropStartupPermissions } from "${PROJECT}/lib/commands/permissions.ts";
    const config = { configPath: "${dir}/conf/agent.env", hostnameFile: "${dir}/host/hostname",
      osReleaseFile: "${dir}/host/os-release", roots: { proc: "${dir}/host", sys: "${dir}/host" } };
    const dropped = await dropStartupPermissions(config);
    const state = async (name, path) => (await Deno.permissions.query({ name, path })).state;
    console.log(JSON.stringify({ dropped, host: await state("read", "${dir}/host/hostname"),
      conf: await state("read", "${dir}/conf/agent.env"), write: await state("write", "${dir}/conf"),
      env: (await Deno.permissions.query({ name: "env" })).state }));`;
  // `deno eval` would run with every permission: the script must be a file for `deno run`.
  const file = `${dir}/drop.ts`;
  await Deno.writeTextFile(file, script);
  const grants = [
    `--allow-read=${read.join(",")},${PROJECT}`,
    `--allow-write=${dir}`,
    "--allow-env",
  ];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "--no-prompt", ...grants, file],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("permissions: the config dir's own read grant is revoked, with write and env", async () => {
  await using dir = await tempDir();
  const result = await dropWith([`${dir.path}/conf`, `${dir.path}/host`], dir.path);
  assert.deepEqual(result, {
    dropped: ["write", "env", `read ${dir.path}/conf`],
    host: "granted",
    conf: "prompt",
    write: "prompt",
    env: "prompt",
  });
});

Deno.test("permissions: a read grant wider than the config dir is kept, so host files stay readable", async () => {
  await using dir = await tempDir();
  const result = await dropWith([dir.path], dir.path);
  assert.deepEqual(result.dropped, ["write", "env"]);
  assert.equal(result.host, "granted");
});
