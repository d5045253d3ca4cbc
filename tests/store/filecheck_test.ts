// Judging a file from its stat before it is opened (lib/store/filecheck.ts, docs/configuration.md,
// Files the agent reads): plain inputs, no I/O. The files themselves are tried in
// tests/agent/hardening_test.ts.
import assert from "node:assert/strict";
import { type FileFacts, type FileRole, unfitness } from "../../lib/store/filecheck.ts";

const S_IFREG = 0o100000;
const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;

/** A regular file of 100 bytes, one name, mode `mode`, unless `facts` says otherwise. */
function file(mode: number, facts: Partial<FileFacts> = {}): FileFacts {
  return { isFile: true, size: 100, mode: S_IFREG | mode, nlink: 1, ...facts };
}

const reason = (facts: FileFacts, role: FileRole, maxBytes = 64 * 1024) =>
  unfitness(facts, role, maxBytes)?.reason;

Deno.test("filecheck: a FIFO or a device is refused in every role, before anything else", () => {
  for (const role of ["secret", "host", "kernel"] as const) {
    const fifo = { isFile: false, size: 0, mode: S_IFIFO | 0o644, nlink: 2 };
    const zero = { isFile: false, size: 0, mode: S_IFCHR | 0o666, nlink: 1 };
    assert.equal(reason(fifo, role), "not a regular file", role);
    assert.equal(reason(zero, role), "not a regular file", role);
  }
});

Deno.test("filecheck: a secret file is refused with a second name (a hard link)", () => {
  const linked = unfitness(file(0o600, { nlink: 2 }), "secret", 64 * 1024);
  assert.equal(linked?.reason, "hard link");
  assert.equal(linked?.says, "has 2 hard links: it may be another file");
  assert.equal(reason(file(0o600), "secret"), undefined);
});

Deno.test("filecheck: a secret file writable by its group or by others is refused, as sshd would", () => {
  assert.equal(
    unfitness(file(0o660), "secret", 1024)?.says,
    "is writable by its group (mode 0660)",
  );
  assert.equal(
    unfitness(file(0o602), "secret", 1024)?.says,
    "is writable by other users (mode 0602)",
  );
  for (const mode of [0o600, 0o400, 0o640, 0o644, 0o444]) {
    assert.equal(reason(file(mode), "secret"), undefined, mode.toString(8));
  }
});

Deno.test("filecheck: a host file only its owner (or group) may read is a secret, never reported", () => {
  for (const mode of [0o600, 0o640, 0o400, 0o000]) {
    const unfit = unfitness(file(mode), "host", 1024);
    assert.equal(unfit?.reason, "private", mode.toString(8));
    assert.match(unfit!.short, /not readable by other users .*never reported/);
  }
  for (const mode of [0o644, 0o444, 0o755, 0o604]) {
    assert.equal(reason(file(mode), "host"), undefined, mode.toString(8));
  }
  // What a host file is, not where: one name or many, anyone may read it anyway.
  assert.equal(reason(file(0o644, { nlink: 3 }), "host"), undefined);
});

Deno.test("filecheck: size: over the cap is refused, except for kernel files that say 0 or 4096", () => {
  assert.equal(
    unfitness(file(0o600, { size: 64 * 1024 + 1 }), "secret", 64 * 1024)?.says,
    "is larger than 64 KiB",
  );
  assert.equal(reason(file(0o600, { size: 64 * 1024 }), "secret"), undefined);
  assert.equal(reason(file(0o644, { size: 2 * 1024 * 1024 }), "host", 1024 * 1024), "too large");
  // procfs says 0, sysfs 4096, and a capped read decides instead.
  assert.equal(reason(file(0o444, { size: 0 }), "kernel", 0), undefined);
  assert.equal(reason(file(0o644, { size: 4096 }), "kernel", 0), undefined);
});

Deno.test("filecheck: a kernel file is judged by its type alone", () => {
  assert.equal(reason(file(0o666, { nlink: 2 }), "kernel"), undefined);
  assert.equal(reason(file(0o200), "kernel"), undefined);
});

Deno.test("filecheck: without a mode or link count (another platform), only type and size count", () => {
  const bare = { isFile: true, size: 10, mode: null, nlink: null };
  for (const role of ["secret", "host", "kernel"] as const) {
    assert.equal(reason(bare, role), undefined, role);
  }
});
