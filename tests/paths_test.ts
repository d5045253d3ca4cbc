// lib/paths.ts against node:path, which it stands in for: the same answers for any POSIX path.
import assert from "node:assert/strict";
import * as node from "node:path";
import fc from "fast-check";
import { basename, dirname, isAbsolute, join, normalize, resolve } from "../lib/paths.ts";

const segment = fc.constantFrom("", ".", "..", "a", "b", "etc", "ravenxcope", "x.env", "/", "//");
const path = fc.array(segment, { maxLength: 8 }).map((parts) => parts.join("/"));

Deno.test("paths: normalize, dirname, basename and isAbsolute answer as node:path does", () => {
  fc.assert(
    fc.property(path, (p) => {
      if (p === "") return; // node:path answers "." for the empty path; the agent never asks
      assert.equal(normalize(p).replace(/(.)\/$/, "$1"), node.normalize(p).replace(/(.)\/$/, "$1"));
      assert.equal(isAbsolute(p), node.isAbsolute(p));
      assert.equal(dirname(p), node.dirname(node.normalize(p).replace(/(.)\/$/, "$1")));
      assert.equal(basename(p), node.basename(node.normalize(p)));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("paths: join and resolve answer as node:path does", () => {
  fc.assert(
    fc.property(fc.array(path, { minLength: 1, maxLength: 4 }), (parts) => {
      assert.equal(
        join(...parts).replace(/(.)\/$/, "$1"),
        node.join(...parts).replace(/(.)\/$/, "$1"),
      );
      assert.equal(resolve(...parts), node.resolve(...parts));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("paths: the cases the agent meets", () => {
  assert.equal(join("/host/proc", "net", "dev"), "/host/proc/net/dev");
  assert.equal(
    resolve("/host/sys/class/net", "../../devices/virtual/net/lo"),
    "/host/sys/devices/virtual/net/lo",
  );
  assert.equal(dirname("/etc/ravenxcope/sensor-agent.env"), "/etc/ravenxcope");
  assert.equal(basename("/etc/ravenxcope/sensor-agent.env"), "sensor-agent.env");
  assert.equal(dirname("/"), "/");
  assert.equal(dirname("/etc"), "/");
});
