// tests/support/confinement_probe.ts: tries, one by one, what a compromised agent holding the
// shipped permission set would try through procfs and sysfs mounted at /host/proc and /host/sys,
// and prints for each whether the permission set refused it (JSON). Run by confinement_test.ts.
import { tryEach } from "./attempts.ts";
const attempts: Record<string, () => unknown> = {
  "read /host/proc/self/root/etc/shadow": () =>
    Deno.readTextFileSync("/host/proc/self/root/etc/shadow"),
  "list /host/proc/self/cwd": () => [...Deno.readDirSync("/host/proc/self/cwd")],
  "read /host/proc/self/environ": () => Deno.readFileSync("/host/proc/self/environ"),
  "read /host/proc/1/environ": () => Deno.readFileSync("/host/proc/1/environ"),
  "read /host/proc/1/root/etc/passwd": () => Deno.readTextFileSync("/host/proc/1/root/etc/passwd"),
  "list /host/proc/1/fd": () => [...Deno.readDirSync("/host/proc/1/fd")],
  "read /host/proc/kcore": () => {
    using file = Deno.openSync("/host/proc/kcore");
    return file.readSync(new Uint8Array(16));
  },
  "read /host/proc/cmdline": () => Deno.readTextFileSync("/host/proc/cmdline"),
  "read /host/proc/sys/kernel/hostname": () =>
    Deno.readTextFileSync("/host/proc/sys/kernel/hostname"),
  "list /host/proc": () => [...Deno.readDirSync("/host/proc")],
  "read /host/proc/net/dev/../../self/environ": () =>
    Deno.readFileSync("/host/proc/net/dev/../../self/environ"),
  "realPath /host/proc/self/root": () => Deno.realPathSync("/host/proc/self/root"),
  "list /host/sys/kernel": () => [...Deno.readDirSync("/host/sys/kernel")],
  "list /host/sys/firmware": () => [...Deno.readDirSync("/host/sys/firmware")],
  "read /host/sys/kernel/mm/transparent_hugepage/enabled": () =>
    Deno.readTextFileSync("/host/sys/kernel/mm/transparent_hugepage/enabled"),
  "read /host/sys/class/net/lo/../../../kernel/uevent_seqnum": () =>
    Deno.readTextFileSync("/host/sys/class/net/lo/../../../kernel/uevent_seqnum"),
  "list /host/sys/class": () => [...Deno.readDirSync("/host/sys/class")],
  "link /etc/ravenxcope/x to /etc/shadow": () =>
    Deno.symlinkSync("/etc/shadow", "/etc/ravenxcope/escape-link"),
  "read /etc/shadow": () => Deno.readTextFileSync("/etc/shadow"),
};

const results = tryEach(attempts);
try {
  Deno.removeSync("/etc/ravenxcope/escape-link"); // only there where the link was allowed
} catch {
  // refused or never made
}
console.log(JSON.stringify(results));
