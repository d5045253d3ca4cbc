"""bench/inventory_floor.py: the file-system floor for bench/inventory.ts.

The same reads as the agent's readInventory (lib/host/watcher.ts), done as plainly as this machine
allows: list <sys>/class/net, read <proc>/net/dev, and for each entry read ifindex and flags, read
the entry's link and look for wireless/ and phy80211. Parsing is kept to what decides the count
(an entry with an ifindex is an interface). Prints one JSON line like the Deno child.

Usage: inventory_floor.py <proc> <sys> <repetitions>
"""

import json
import os
import sys
import time


def read_text(path):
    try:
        with open(path, "r") as handle:
            return handle.read()
    except OSError:
        return None


def exists(path):
    try:
        os.lstat(path)
        return True
    except OSError:
        return False


def collect(proc, sysfs):
    class_net = os.path.join(sysfs, "class", "net")
    names = os.listdir(class_net)
    net_dev = read_text(os.path.join(proc, "net", "dev"))
    counters = {}
    for line in net_dev.split("\n"):
        name, colon, rest = line.partition(":")
        if colon:
            columns = rest.split()
            counters[name.strip()] = (int(columns[0]), int(columns[8]))
    found = []
    for name in names:
        entry = os.path.join(class_net, name)
        ifindex = read_text(os.path.join(entry, "ifindex"))
        flags = read_text(os.path.join(entry, "flags"))
        try:
            device = os.readlink(entry)
        except OSError:
            device = ""
        wireless = exists(os.path.join(entry, "wireless")) or exists(
            os.path.join(entry, "phy80211")
        )
        if ifindex is None:
            continue
        found.append(
            (int(ifindex), name, int(flags, 16), "devices/virtual/" in device, wireless)
        )
    found.sort()
    return found


def main():
    proc, sysfs, repetitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
    warm = collect(proc, sysfs)  # untimed, as in the Deno child
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter()
        collect(proc, sysfs)
        samples.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"interfaces": len(warm), "samplesMs": samples}))


if __name__ == "__main__":
    main()
