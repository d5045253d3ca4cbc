// The interface watcher (lib/host/watcher.ts, docs/protocol.md): counters and flags current at
// every beat, the set seen again at the next beat when <proc>/net/dev's names change, and fully
// after 60 s. First on generated trees, then on real interfaces in a network namespace (needs
// root).
import assert from "node:assert/strict";
import { join } from "node:path";
import { InterfaceWatcher } from "../../lib/host/watcher.ts";
import {
  type FakeInterface,
  netDevText,
  withHostTree,
  writeHostTree,
  writeInterface,
} from "../support/hosttree.ts";
import { addVeth, createNamespace, hostRoots, netnsAvailable } from "../support/netns.ts";
import { watchIn } from "../support/netns_agent.ts";

const eth = (name: string, ifindex: number, bytesRecv = 0): FakeInterface => ({
  name,
  ifindex,
  up: true,
  bytesRecv,
  bytesSent: 0,
});

const names = (watcher: InterfaceWatcher) =>
  watcher.read([], undefined).interfaces.map((entry) => entry.name);

Deno.test("watcher: counters and flags are read afresh at every beat", async () => {
  const ifaces = [eth("eth0", 2, 100)];
  await withHostTree(ifaces, {}, async (roots) => {
    using watcher = new InterfaceWatcher(roots);
    assert.deepEqual(watcher.read([], undefined).interfaces[0].bytesRecv, 100);
    // Rewritten in place, as the kernel does: the kept-open files must show the new text.
    await Deno.writeTextFile(join(roots.proc, "net", "dev"), netDevText([eth("eth0", 2, 250)]));
    await Deno.writeTextFile(join(roots.sys, "class", "net", "eth0", "flags"), "0x1002\n");
    const [entry] = watcher.read([], undefined).interfaces;
    assert.deepEqual([entry.bytesRecv, entry.isUp], [250, false]);
    assert.equal(watcher.generation, 1, "same names: no second detection");
  });
});

Deno.test("watcher: an interface added to net/dev is in the next beat", async () => {
  await withHostTree([eth("eth0", 2)], {}, async (roots) => {
    using watcher = new InterfaceWatcher(roots);
    assert.deepEqual(names(watcher), ["eth0"]);
    // eth1 appears: its sysfs entry, then net/dev rewritten in place as procfs does.
    await writeInterface(roots.sys, eth("eth1", 3));
    await Deno.writeTextFile(
      join(roots.proc, "net", "dev"),
      netDevText([eth("eth0", 2), eth("eth1", 3, 7)]),
    );
    const found = watcher.read([], undefined).interfaces;
    assert.deepEqual(found.map((entry) => [entry.name, entry.bytesRecv]), [
      ["eth0", 0],
      ["eth1", 7],
    ]);
  });
});

Deno.test("watcher: the set and classification are trusted for at most maxAgeMs", async () => {
  await withHostTree([eth("eth0", 2)], {}, async (roots) => {
    let now = 0;
    using watcher = new InterfaceWatcher(roots, { maxAgeMs: 60_000, now: () => now });
    assert.equal(watcher.read([], undefined).interfaces[0].isWireless, false);
    await Deno.mkdir(join(roots.sys, "class", "net", "eth0", "wireless"));
    now = 59_999;
    assert.equal(watcher.read([], undefined).interfaces[0].isWireless, false, "kept");
    now = 60_000;
    assert.equal(watcher.read([], undefined).interfaces[0].isWireless, true, "detected again");
    assert.equal(watcher.generation, 2);
  });
});

Deno.test("watcher: at the refresh a flags file still in place is read on; one replaced at its path is opened afresh", async () => {
  await withHostTree([eth("eth0", 2), eth("eth1", 3)], {}, async (roots) => {
    let now = 0;
    using watcher = new InterfaceWatcher(roots, { maxAgeMs: 60_000, now: () => now });
    const upFlags = () => watcher.read([], undefined).interfaces.map((entry) => entry.isUp);
    assert.deepEqual(upFlags(), [true, true]);
    const device = (name: string) => Deno.realPathSync(join(roots.sys, "class", "net", name));
    // eth0's file rewritten in place (the same file, as sysfs regenerates it); eth1's replaced by
    // a rename, as a tree's writer might: the file kept open still says up.
    await Deno.writeTextFile(join(device("eth0"), "flags"), "0x1002\n");
    const fresh = join(device("eth1"), "flags.new");
    await Deno.writeTextFile(fresh, "0x1002\n");
    await Deno.rename(fresh, join(device("eth1"), "flags"));
    now = 59_999;
    assert.deepEqual(upFlags(), [false, true], "eth1's open file is the old one until the refresh");
    now = 60_000;
    assert.deepEqual(upFlags(), [false, false], "the refresh opened eth1's new file");
    assert.equal(watcher.generation, 2);
  });
});

Deno.test("watcher: disposing of it closes every file it holds", async () => {
  await withHostTree([eth("eth0", 2), eth("eth1", 3)], {}, (roots) => {
    const watcher = new InterfaceWatcher(roots);
    watcher.read([], undefined);
    watcher[Symbol.dispose](); // the resource sanitizer fails this test if a file stayed open
    return Promise.resolve();
  });
});

// --- real interfaces in a network namespace

const netns = await netnsAvailable();
if (!netns.available) console.log(`skipped: watcher_test.ts netns: ${netns.reason}`);

Deno.test("watcher: what leads out of the root since the last detection is not read at the next", async () => {
  await withHostTree([{ ...eth("eth0", 2), up: false }], {}, async (roots, dir) => {
    const outside = await writeHostTree(join(dir, "outside"), [eth("eth0", 77)]); // up
    let now = 0;
    using watcher = new InterfaceWatcher(roots, { maxAgeMs: 60_000, now: () => now });
    assert.deepEqual(watcher.read([], undefined).interfaces.map((i) => [i.name, i.isUp]), [
      ["eth0", false],
    ]);
    // Swapped after start: eth0's entry now leads to another tree's device.
    const link = join(roots.sys, "class", "net", "eth0");
    await Deno.remove(link);
    await Deno.symlink(
      join(outside.sys, "devices", "pci0000:00", "0000:00:1f.6", "net", "eth0"),
      link,
    );
    now = 60_000;
    const { interfaces } = watcher.read([], undefined);
    assert.deepEqual(interfaces, [], "its ifindex and flags were not read");
  });
});

Deno.test("watcher: net/dev swapped for a FIFO is judged again at the next detection, without a hang", async () => {
  await withHostTree([eth("eth0", 2, 100)], {}, async (roots) => {
    let now = 0;
    using watcher = new InterfaceWatcher(roots, { maxAgeMs: 60_000, now: () => now });
    assert.equal(watcher.read([], undefined).interfaces[0].bytesRecv, 100);
    const netDev = join(roots.proc, "net", "dev");
    await Deno.remove(netDev);
    const made = await new Deno.Command("mkfifo", { args: [netDev] }).output();
    assert.equal(made.code, 0);
    now = 60_000;
    const { interfaces, degraded } = watcher.read([], undefined);
    assert.deepEqual(interfaces, []);
    assert.ok(degraded?.includes(`${netDev} cannot be read (not a regular file)`), degraded);
  });
});

Deno.test({
  name:
    "watcher: in a netns, an interface added, renamed and removed between beats is seen at the next",
  ignore: !netns.available,
  fn: async () => {
    await using sensor = await createNamespace("watch");
    await using peer = await createNamespace("watchpeer");
    await using roots = await hostRoots();
    await addVeth(sensor, "cap0", peer, "cap0-peer");
    await using watcher = watchIn(sensor, roots);
    const seen = async () => (await watcher.beat()).interfaces.map((entry) => entry.name);
    assert.deepEqual(await seen(), ["lo", "cap0"]);

    await addVeth(sensor, "cap1", peer, "cap1-peer");
    assert.deepEqual(await seen(), ["lo", "cap0", "cap1"], "added");

    await sensor.ip("link", "set", "cap0", "name", "span0");
    assert.deepEqual(await seen(), ["lo", "span0", "cap1"], "renamed, same ifindex");

    await sensor.ip("link", "set", "span0", "up");
    const up = (await watcher.beat()).interfaces.find((entry) => entry.name === "span0");
    assert.equal(up?.isUp, true, "flags current through the kept-open file");

    await sensor.ip("link", "del", "cap1");
    const last = await watcher.beat();
    assert.deepEqual(last.interfaces.map((entry) => entry.name), ["lo", "span0"], "removed");
    assert.equal(last.degraded, undefined, "read under the narrow grant");
  },
});
