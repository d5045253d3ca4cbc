// tests/support/kvrecord.ts: a reference backend's sensor record changed in its store directly,
// while the backend is stopped, by a `deno eval --unstable-kv` of its own (test processes have no
// KV). For fields the API cannot set yet: issue 22's credential fields (token age, rotation, a
// duplicate token), as reference-backend/api/credentials.ts reads them. When the backend keeps
// them itself (issue 22's routes), this is the one place that must write what it keeps.
import assert from "node:assert/strict";

/** Merges `fields` into sensor `id`'s record in the store in `dataDir`. */
export async function updateSensorRecord(
  dataDir: string,
  id: string,
  fields: Record<string, unknown>,
): Promise<void> {
  const script = `const kv = await Deno.openKv(Deno.args[0]);
    const entry = await kv.get(["sensors", Deno.args[1]]);
    if (entry.value === null) throw new Error("no such sensor");
    const result = await kv.atomic().check(entry)
      .set(entry.key, { ...entry.value, ...JSON.parse(Deno.args[2]) }).commit();
    if (!result.ok) throw new Error("the record changed");
    kv.close();`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-kv", script, `${dataDir}/kv.sqlite3`, id, JSON.stringify(fields)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
}
