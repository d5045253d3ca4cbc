// bench/report/inventory.ts: the inventory-scaling section of BENCHMARKS.md (bench/inventory.ts):
// the interface read over 16 to 4,096 interfaces against a Python floor doing the same reads.
import type { InventoryResult } from "../inventory.ts";
import { fixed, ms, table, TARGETS } from "./text.ts";

/** The section, with why a figure misses its target when one does. */
export function inventorySection(result: InventoryResult): string {
  let previous: number | undefined;
  const rows = result.rows.map((row) => {
    const growth = previous === undefined ? "" : `x ${fixed(row.agentMs / previous, 1)}`;
    previous = row.agentMs;
    return [
      row.interfaces.toLocaleString("en-US"),
      ms(row.agentMs, 2),
      growth,
      ms(row.floorMs, 2),
      fixed(row.agentMs / row.floorMs, 2),
      ms((row.agentMs / row.interfaces) * 1000, 0),
      row.repetitions,
    ];
  });
  const why = result.ratioToFloorAt4096 <= TARGETS.inventoryFloorRatio ? [] : [
    `**Why it misses the floor.** Both sides do the same reads; the gap is the cost per read. ` +
    `${permissionWalk(result)} Where the reads are asynchronous, each also costs a trip to the ` +
    `runtime's thread pool and back, and a large host's reads issued all at once queue up ` +
    `there: that is the cost that grows faster than the interface count.`,
    "",
  ];
  const at = (size: number) => result.rows.find((row) => row.interfaces === size);
  const floorGrowth = (at(4096)?.floorMs ?? NaN) / (at(256)?.floorMs ?? NaN);
  if (result.growth4096over256 > TARGETS.inventoryGrowth) {
    why.push(
      `**Why the growth misses.** The Python floor, doing the same reads in the same run, grows ` +
        `x ${fixed(floorGrowth, 1)} from 256 to 4,096 interfaces against the agent's ` +
        `x ${fixed(result.growth4096over256, 1)}: what grows faster than the count is the file ` +
        `system's lookups among 4,096 links and directories, paid by any reader; the rest is the ` +
        `per-path permission walk of a scoped grant, which a link in every path lengthens.`,
      "",
    );
  }
  return [
    "## Inventory scaling",
    "",
    `\`readInventory\` (lib/host/watcher.ts) over fixture trees of 16, 256 and 4,096 interfaces, ` +
    `each size in its own process holding \`--allow-read\` of that tree only (the shape of the shipped ` +
    `set), timed inside the process (start-up excluded) after one untimed pass; median of the ` +
    `repetitions. The floor is bench/inventory_floor.py doing the same reads (list class/net, ` +
    `read net/dev, and per entry ifindex, flags, the device link, wireless/ and phy80211) as ` +
    `plainly as Python allows.`,
    "",
    table(
      [
        "interfaces",
        "agent ms",
        "growth",
        "Python floor ms",
        "agent / floor",
        "µs per interface",
        "runs",
      ],
      rows,
    ),
    "",
    table(["", "measured", "target"], [
      [
        "4,096 / 256 (linear: 16)",
        fixed(result.growth4096over256, 1),
        `<= ${TARGETS.inventoryGrowth}`,
      ],
      [
        "agent / floor at 4,096",
        fixed(result.ratioToFloorAt4096, 2),
        `<= ${TARGETS.inventoryFloorRatio}`,
      ],
      ["the Python floor's own 4,096 / 256", fixed(floorGrowth, 1), ""],
    ]),
    "",
    ...why,
  ].join("\n");
}

/** The cost of the permission walk, from the --allow-all run of the inventory benchmark. */
export function permissionWalk(inventory: InventoryResult): string {
  const scoped = inventory.rows.find((row) => row.interfaces === 256)?.agentMs;
  if (scoped === undefined || !(inventory.allowAllMsAt256 > 0)) return "";
  return `Under a scoped \`--allow-read\` Deno checks every component of every path it opens ` +
    `(a readlink each, its guard against links into /proc and /sys): the same 256-interface ` +
    `run takes ${ms(scoped, 2)} ms under the scoped grant and ` +
    `${ms(inventory.allowAllMsAt256, 2)} ms with \`--allow-all\` ` +
    `(${fixed(scoped / inventory.allowAllMsAt256, 1)} x).`;
}
