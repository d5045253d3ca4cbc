// Where HOST_PROC and HOST_SYS may lead (lib/config/hostroots.ts): judged by the files under the
// root, with the machine seen through a fake PathProbe. The real thing, under the shipped set in a
// mount namespace, is in tests/agent/hardening_test.ts.
import assert from "node:assert/strict";
import type { PathProbe } from "../../lib/store/mod.ts";
import { leadsWhereNamed, rootProblem } from "../../lib/config/hostroots.ts";

const FILE = { isFile: true, isDirectory: false, size: 0, mode: 0o100444, nlink: 1 };
const DIRECTORY = { isFile: false, isDirectory: true, size: 0, mode: 0o40755, nlink: 2 };
const FIFO = { isFile: false, isDirectory: false, size: 0, mode: 0o10644, nlink: 1 };

/** A machine: what may be read ("all" for -A), where links lead, and what each path is. */
function machine(
  readable: string[] | "all",
  links: Record<string, string> = {},
  kinds: Record<string, typeof FILE> = {},
): PathProbe {
  const grantCovers = (path: string) =>
    readable === "all" ||
    readable.some((granted) => path === granted || path.startsWith(`${granted}/`));
  return {
    canRead: grantCovers,
    exists: (path) => path in kinds,
    realPath: (path) => links[path] ?? (path in kinds ? path : undefined),
    stat: (path) => kinds[path],
  };
}

/** The shipped set's grants, and a real procfs and sysfs mounted at /host/*. */
const SHIPPED_GRANTS = [
  "/etc/ravenxcope",
  "/host/proc/net/dev",
  "/host/proc/net/route",
  "/host/sys/class/net",
];
const MOUNTED = {
  "/host/proc/net/dev": FILE,
  "/host/proc/net/route": FILE,
  "/host/sys/class/net": DIRECTORY,
};
const PROCFS_LINKS = {
  "/host/proc/net/dev": "/host/proc/4242/net/dev",
  "/host/proc/net/route": "/host/proc/4242/net/route",
};

Deno.test("hostroots: the shipped roots pass, procfs's net -> self/net link included", () => {
  const probe = machine(SHIPPED_GRANTS, PROCFS_LINKS, MOUNTED);
  assert.equal(rootProblem("HOST_PROC", "/host/proc", probe), undefined);
  assert.equal(rootProblem("HOST_SYS", "/host/sys", probe), undefined);
});

Deno.test("hostroots: /proc and /sys pass: Deno guards them itself", () => {
  const probe = machine(SHIPPED_GRANTS);
  assert.equal(rootProblem("HOST_PROC", "/proc", probe), undefined);
  assert.equal(rootProblem("HOST_SYS", "/sys", probe), undefined);
});

Deno.test("hostroots: a root inside a directory granted whole is no root granted for procfs", () => {
  const probe = machine(SHIPPED_GRANTS, {}, {
    "/etc/ravenxcope/p/net/dev": FILE,
    "/etc/ravenxcope/s/class/net": DIRECTORY,
  });
  assert.match(
    rootProblem("HOST_PROC", "/etc/ravenxcope/p", probe)!,
    /grants all of \/etc\/ravenxcope\/p\/net, so \/etc\/ravenxcope\/p is not a root it grants for procfs/,
  );
  assert.match(
    rootProblem("HOST_SYS", "/etc/ravenxcope/s", probe)!,
    /not a root it grants for sysfs/,
  );
});

Deno.test("hostroots: a root whose files are not granted is refused, naming the file", () => {
  assert.equal(
    rootProblem("HOST_PROC", "/etc", machine(SHIPPED_GRANTS)),
    "this build's permission set does not allow reading /etc/net/dev",
  );
});

Deno.test("hostroots: a file that leads elsewhere is refused, naming where it leads", () => {
  const grants = ["/srv/p/net/dev", "/srv/p/net/route", "/srv/s/class/net"];
  for (
    const [key, root, file, target] of [
      ["HOST_PROC", "/srv/p", "/srv/p/net/dev", "/dev/zero"],
      ["HOST_PROC", "/srv/p", "/srv/p/net/dev", "/var/tmp/outside/net/dev"],
      ["HOST_PROC", "/srv/p", "/srv/p/net/dev", "/srv/p/self/net/dev"], // not a pid
      ["HOST_SYS", "/srv/s", "/srv/s/class/net", "/var/tmp/outside/class/net"],
    ] as const
  ) {
    const probe = machine(grants, { [file]: target }, { [file]: FILE });
    assert.equal(
      rootProblem(key, root, probe),
      `${file} leads to ${target}, not to a ${
        key === "HOST_PROC" ? "procfs" : "sysfs"
      } file under ${root}`,
    );
  }
});

Deno.test("hostroots: a FIFO, or a file where a directory belongs, is refused without opening it", () => {
  const grants = ["/srv/p/net/dev", "/srv/p/net/route", "/srv/s/class/net"];
  const probe = machine(grants, {}, { "/srv/p/net/dev": FIFO, "/srv/s/class/net": FILE });
  assert.equal(rootProblem("HOST_PROC", "/srv/p", probe), "/srv/p/net/dev is not a regular file");
  assert.equal(rootProblem("HOST_SYS", "/srv/s", probe), "/srv/s/class/net is not a directory");
});

Deno.test("hostroots: a root granted file by file (the try set, a test set) passes; missing is fine", () => {
  const grants = ["/srv/p/net/dev", "/srv/p/net/route", "/srv/s/class/net"];
  assert.equal(rootProblem("HOST_PROC", "/srv/p", machine(grants)), undefined);
  assert.equal(rootProblem("HOST_SYS", "/srv/s", machine(grants)), undefined);
});

Deno.test("hostroots: with every path readable (-A) there is no grant to judge, but links still are", () => {
  const kinds = { "/etc/ravenxcope/p/net/dev": FILE };
  assert.equal(rootProblem("HOST_PROC", "/etc/ravenxcope/p", machine("all", {}, kinds)), undefined);
  const out = machine("all", { "/etc/ravenxcope/p/net/dev": "/tmp/x/net/dev" }, kinds);
  assert.match(rootProblem("HOST_PROC", "/etc/ravenxcope/p", out)!, /leads to \/tmp\/x\/net\/dev/);
});

Deno.test("hostroots: leadsWhereNamed accepts the path itself and procfs's /<pid>/ form only", () => {
  const root = "/host/proc";
  const path = "/host/proc/net/dev";
  assert.ok(leadsWhereNamed(root, path, path));
  assert.ok(leadsWhereNamed(root, path, "/host/proc/1/net/dev"));
  assert.ok(leadsWhereNamed(root, path, "/host/proc/4194304/net/dev"));
  for (
    const resolved of [
      "/host/proc/0/net/dev",
      "/host/proc/self/net/dev",
      "/host/proc/1/2/net/dev",
      "/host/proc/1/net/dev/x",
      "/proc/1/net/dev",
      "/host/procx/1/net/dev",
      "/dev/zero",
    ]
  ) {
    assert.ok(!leadsWhereNamed(root, path, resolved), resolved);
  }
});
