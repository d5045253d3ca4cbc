// Persistence on real files (docs/configuration.md): atomic replacement, mode and owner, symlinks,
// the lock, and the write check that protects the install token.
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveTarget } from "../../lib/store/location.ts";
import { lockConfig } from "../../lib/store/configlock.ts";
import { checkWritable } from "../../lib/store/persist.ts";
import { saveSensorToken } from "../../lib/config/mod.ts";
import type { AgentError } from "../../lib/errors.ts";
import { listing } from "../support/seed.ts";
import { tempDir } from "../support/tempdir.ts";

const TOKEN = "persist-test-token-0123456789";
const isRoot = Deno.uid() === 0;

Deno.test("persist: a 0644 file becomes 0600 and keeps its other lines", async () => {
  await using dir = await tempDir();
  const config = dir.join("agent.env");
  await Deno.writeTextFile(config, "# kept\r\nINSTALL_TOKEN=abc\r\nOTHER='x y'\r\n", {
    mode: 0o644,
  });
  await Deno.chmod(config, 0o644);
  await saveSensorToken(config, TOKEN);
  assert.equal(
    await Deno.readTextFile(config),
    `# kept\r\n# INSTALL_TOKEN consumed during enrollment\r\nOTHER='x y'\r\nSENSOR_TOKEN=${TOKEN}\n`,
  );
  assert.equal((await Deno.stat(config)).mode! & 0o777, 0o600);
});

Deno.test("persist: the file is replaced, not rewritten in place (a new inode)", async () => {
  await using dir = await tempDir();
  const config = dir.join("agent.env");
  await Deno.writeTextFile(config, "A=1\n");
  const before = (await Deno.stat(config)).ino;
  await saveSensorToken(config, TOKEN);
  assert.notEqual((await Deno.stat(config)).ino, before);
});

Deno.test("persist: no temporary file is left behind", async () => {
  await using dir = await tempDir();
  await saveSensorToken(dir.join("agent.env"), TOKEN);
  const names = [];
  for await (const entry of Deno.readDir(dir.path)) names.push(entry.name);
  assert.deepEqual(names.sort(), ["agent.env"]);
});

Deno.test({
  name: "persist: the previous owner and group are kept",
  ignore: !isRoot,
  fn: async () => {
    await using dir = await tempDir();
    const config = dir.join("agent.env");
    await Deno.writeTextFile(config, "A=1\n");
    await Deno.chown(config, 65534, 65534);
    await saveSensorToken(config, TOKEN);
    const info = await Deno.stat(config);
    assert.deepEqual([info.uid, info.gid], [65534, 65534]);
  },
});

Deno.test("persist: a symlink's target is replaced and the link stays", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(dir.join("real"));
  await Deno.writeTextFile(dir.join("real/agent.env"), "A=1\n");
  await Deno.symlink("real/agent.env", dir.join("link.env"));
  await saveSensorToken(dir.join("link.env"), TOKEN);
  assert.ok((await Deno.lstat(dir.join("link.env"))).isSymlink);
  assert.equal(await Deno.readTextFile(dir.join("real/agent.env")), `A=1\nSENSOR_TOKEN=${TOKEN}\n`);
});

Deno.test("persist: a dangling symlink creates its target", async () => {
  await using dir = await tempDir();
  await Deno.symlink(dir.join("conf/agent.env"), dir.join("link.env"));
  assert.equal(await resolveTarget(dir.join("link.env")), dir.join("conf/agent.env"));
  await saveSensorToken(dir.join("link.env"), TOKEN);
  assert.equal(await Deno.readTextFile(dir.join("conf/agent.env")), `SENSOR_TOKEN=${TOKEN}\n`);
});

Deno.test("persist: a failed write names the path and leaves the old file", async () => {
  await using dir = await tempDir();
  const config = dir.join("agent.env");
  await Deno.writeTextFile(config, "A=1\n");
  // The parent is a file, so nothing can be created: the error must say where and why.
  await assert.rejects(
    () => saveSensorToken(dir.join("agent.env/inner.env"), TOKEN),
    (error: Error) => error.message.startsWith(`cannot write ${config}/inner.env:`),
  );
  assert.equal(await Deno.readTextFile(config), "A=1\n");
});

Deno.test("persist: an unparsable file is not replaced", async () => {
  await using dir = await tempDir();
  const config = dir.join("agent.env");
  await Deno.writeTextFile(config, "not an assignment\n");
  await assert.rejects(() => saveSensorToken(config, TOKEN));
  assert.equal(await Deno.readTextFile(config), "not an assignment\n");
});

Deno.test("lock: a second locker waits until the first releases", async () => {
  await using dir = await tempDir();
  const config = dir.join("agent.env");
  const first = await lockConfig(config);
  assert.ok(first.held);
  assert.equal(first.waited, false, "a free lock is taken at once");
  let secondHeld = false;
  const second = lockConfig(config).then((lock) => {
    secondHeld = true;
    return lock;
  });
  await new Promise((done) => setTimeout(done, 200));
  assert.equal(secondHeld, false, "the second lock must wait");
  first.release();
  const lock = await second;
  assert.ok(lock.held);
  assert.equal(lock.waited, true, "the second locker says it waited");
  lock.release();
});

Deno.test("lock: where it cannot be taken it says why instead of failing", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(dir.join("file"), "");
  const lock = await lockConfig(dir.join("file/agent.env"));
  assert.equal(lock.held, false);
  assert.match(lock.reason!, /Not a directory|exists/i);
  lock.release();
});

Deno.test("checkWritable: creates missing directories 0700 and leaves no file", async () => {
  await using dir = await tempDir();
  await checkWritable(dir.join("a/b/agent.env"));
  assert.equal((await Deno.stat(dir.join("a/b"))).mode! & 0o777, 0o700);
  const names = [];
  for await (const entry of Deno.readDir(dir.join("a/b"))) names.push(entry.name);
  assert.deepEqual(names, []);
});

Deno.test("checkWritable: an unwritable place is exit 73 naming the path", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(dir.join("file"), "");
  await assert.rejects(
    () => checkWritable(dir.join("file/agent.env")),
    (error: AgentError) =>
      error.exitCode === 73 && error.message.includes(dir.join("file/agent.env")),
  );
});

Deno.test("lock: a link at the lock path is not followed: its target is neither made nor opened", async () => {
  await using dir = await tempDir();
  const config = dir.join("agent.env");
  const elsewhere = dir.join("elsewhere");
  await Deno.mkdir(elsewhere);
  const existing = join(elsewhere, "existing");
  await Deno.writeTextFile(existing, "keep me\n");
  const { mtime } = await Deno.stat(existing);
  for (const target of [join(elsewhere, "missing"), existing]) {
    await Deno.remove(`${config}.lock`).catch(() => {});
    await Deno.symlink(target, `${config}.lock`);
    const lock = await lockConfig(config);
    lock.release();
    assert.equal(lock.held, false);
    assert.match(lock.reason ?? "", /not a regular file of its own/);
  }
  assert.deepEqual(await listing(elsewhere), ["existing"]);
  assert.equal(await Deno.readTextFile(existing), "keep me\n");
  assert.deepEqual((await Deno.stat(existing)).mtime, mtime);
});
