// tests/host/binding_test.ts: the host binding (docs/protocol.md, Requests made with a sensor
// token): HMAC-SHA-256 keyed by the machine id over the fixed label, as OpenSSL computes it; stable
// for a host, different across hosts, and nothing of the id in it.
import assert from "node:assert/strict";
import { idempotencyKey } from "../../lib/backend/mod.ts";
import { HOST_BINDING_LABEL, hostBinding, readHostBinding } from "../../lib/host/binding.ts";
import { tempDir } from "../support/tempdir.ts";
import { unavailable } from "../support/wrapped.ts";

const opensslMissing = await unavailable("openssl", ["version"]);

/** The HMAC as OpenSSL computes it: an implementation that shares no code with the agent's. */
async function opensslHmac(key: string, message: string): Promise<string> {
  const child = new Deno.Command("openssl", {
    args: ["dgst", "-sha256", "-hmac", key, "-r"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(message));
  await writer.close();
  const output = await child.output();
  return new TextDecoder().decode(output.stdout).split(" ")[0];
}

Deno.test({
  name: "binding: HMAC-SHA-256 keyed by the machine id over the label, as OpenSSL computes it",
  ignore: opensslMissing !== undefined,
  async fn() {
    for (const machineId of ["0123456789abcdef0123456789abcdef", "a", "5c1e" + "0".repeat(28)]) {
      assert.equal(
        hostBinding(machineId),
        await opensslHmac(machineId, HOST_BINDING_LABEL),
      );
    }
  },
});

Deno.test("binding: 64 lowercase hex, stable for an id, different across ids, not the id", () => {
  const id = "0123456789abcdef0123456789abcdef";
  const binding = hostBinding(id);
  assert.match(binding, /^[0-9a-f]{64}$/);
  assert.equal(hostBinding(id), binding);
  assert.notEqual(hostBinding("0123456789abcdef0123456789abcdee"), binding);
  assert.ok(!binding.includes(id.slice(0, 8)));
  // Not the Idempotency-Key of any install token that happens to equal the label.
  assert.notEqual(idempotencyKey(HOST_BINDING_LABEL, id), binding);
});

Deno.test("binding: read from the machine-id file's first line; none without a machine id", async () => {
  await using dir = await tempDir();
  const file = dir.join("machine-id");
  await Deno.writeTextFile(file, "\n0123abcd\nignored\n");
  await Deno.chmod(file, 0o644);
  assert.equal(await readHostBinding(file), hostBinding("0123abcd"));
  // An empty file counts as missing: /etc/machine-id then, as readMachineId reads it.
  await Deno.writeTextFile(file, "");
  const own = (await Deno.readTextFile("/etc/machine-id").catch(() => "")).trim();
  assert.equal(await readHostBinding(file), own === "" ? undefined : hostBinding(own));
});
