// The audit trail's bounds (reference-backend/store/audit.ts), in a process of its own with a real
// Deno KV (audit_probe.ts): past its count the oldest events go, and none older than its age is
// read back, whatever the store still holds until it cleans up.
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT } from "../../support/agent.ts";
import { tempDir } from "../../support/tempdir.ts";

/** Runs the probe; what it read back. */
async function probe(
  file: string,
  maxEvents: number,
  maxAgeMs: number,
  events: number,
  waitMs = 0,
  firstAt?: number,
) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-kv",
      `--allow-read=${file},${file}-journal,${file}-wal,${file}-shm`,
      `--allow-write=${file},${file}-journal,${file}-wal,${file}-shm`,
      "--allow-env=AUDIT_PROBE_WAIT_MS",
      join(PROJECT, "tests/reference-backend/store/audit_probe.ts"),
      file,
      String(maxEvents),
      String(maxAgeMs),
      String(events),
      ...(firstAt === undefined ? [] : [String(firstAt)]),
    ],
    env: { AUDIT_PROBE_WAIT_MS: String(waitMs) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return JSON.parse(new TextDecoder().decode(output.stdout)) as { keys: number; read: string[] };
}

Deno.test("audit trail: past its count the oldest events go; a restart keeps counting", async () => {
  await using dir = await tempDir();
  const file = dir.join("kv.sqlite3");
  // 50 kept, trimmed once 100 past it: 400 events leave between 50 and 150, the newest.
  const start = Date.now();
  const first = await probe(file, 50, 3_600_000, 400, 0, start);
  assert.ok(first.keys >= 50 && first.keys <= 150, `${first.keys} kept`);
  assert.equal(first.read.length, first.keys);
  assert.deepEqual(first.read.slice(0, 3), ["event 399", "event 398", "event 397"]);
  assert.equal(first.read.at(-1), `event ${400 - first.keys}`);
  // Another process on the same store counts what is there before adding. Its events come after
  // the first's: a process started within 400 ms of the first would otherwise interleave with it.
  const second = await probe(file, 50, 3_600_000, 200, 0, start + 1000);
  assert.ok(second.keys >= 50 && second.keys <= 150, `${second.keys} kept after a restart`);
  assert.equal(second.read[0], "event 199");
});

Deno.test("audit trail: an event older than its age is not read back", async () => {
  await using dir = await tempDir();
  const read = await probe(dir.join("kv.sqlite3"), 1000, 300, 20, 600);
  assert.deepEqual(read.read, []);
});
