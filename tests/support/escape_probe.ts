// tests/support/escape_probe.ts: tries, one by one, what a compromised agent would try first, and
// prints for each whether the permission set refused it. Run under `-P=agent` by the tests.
import { tryEach } from "./attempts.ts";
const attempts: Record<string, () => unknown> = {
  readShadow: () => Deno.readTextFileSync("/etc/shadow"),
  listRoot: () => [...Deno.readDirSync("/root")],
  writeTmp: () => Deno.writeTextFileSync(`/tmp/escape-probe-${Deno.pid}`, "x"),
  runProgram: () => new Deno.Command("/bin/true").outputSync(),
  loadNativeLibrary: () => Deno.dlopen("libc.so.6", {}),
  readOtherEnv: () => Deno.env.get("HOME"),
};

const results = tryEach(attempts);
console.log(JSON.stringify(results));
