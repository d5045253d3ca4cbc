"""bench/kept_floor.py: the kept-open floor for the agent's beat, in Python.

What the agent's watcher does each beat, as plainly as Python allows: <proc>/net/dev and every
interface's <sys>/class/net/<if>/flags opened once, then per collection read from offset 0 with
pread and parsed for the counters and the flags. Prints one JSON line like inventory_floor.py.

Usage: kept_floor.py <proc> <sys> <repetitions>
"""

import json
import os
import sys
import time


def main():
    proc, sysfs, repetitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
    class_net = os.path.join(sysfs, "class", "net")
    net_dev = os.open(os.path.join(proc, "net", "dev"), os.O_RDONLY)
    flags = {}
    for name in os.listdir(class_net):
        try:
            flags[name] = os.open(os.path.join(class_net, name, "flags"), os.O_RDONLY)
        except OSError:
            pass

    def collect():
        counters = {}
        for line in os.pread(net_dev, 65536, 0).split(b"\n")[2:]:
            name, colon, rest = line.partition(b":")
            if colon:
                columns = rest.split()
                counters[name.strip()] = (int(columns[0]), int(columns[8]))
        return [(name, int(os.pread(fd, 64, 0), 16)) for name, fd in flags.items()], counters

    found, _ = collect()
    samples = []
    for _ in range(repetitions):
        started = time.perf_counter()
        collect()
        samples.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"interfaces": len(found), "samplesMs": samples}))


if __name__ == "__main__":
    main()
