// lib/host/sysfs.ts: what sysfs says about one interface once, when the set is detected
// (docs/protocol.md, Interfaces). Every path goes through <sys>/class/net/<if>: the shipped
// permission set grants read of <sys>/class/net only, not of <sys>/devices where the links lead.
// Deno checks the path string, not where the link leads, so the link must lead inside the root, and
// each attribute read must be a regular file (lib/host/kernelfile.ts).
import { directoryWithin, openAttribute, readKernelFile } from "./kernelfile.ts";

/** An interface's lasting facts, and its flags file kept open for the beats to come. */
export interface Classified {
  readonly name: string;
  readonly ifindex: number;
  readonly isVirtual: boolean;
  readonly isWireless: boolean;
  /** <sys>/class/net/<if>/flags, open; undefined when it could not be opened. */
  readonly flags?: Deno.FsFile;
}

/** An ifindex is a decimal int: a few bytes, whatever a hostile tree puts there. */
const MAX_IFINDEX_BYTES = 32;

/**
 * Reads the entry `name` of `classNet` (<sys>/class/net under the root `sys`): its ifindex,
 * whether its device is virtual or wireless, and opens its flags file. Undefined when the entry is
 * not an interface (no ifindex: bonding_masters), leads out of `sys`, or went away meanwhile. The
 * caller closes `flags`.
 */
export function classify(sys: string, classNet: string, name: string): Classified | undefined {
  const link = `${classNet}/${name}`;
  const device = attempt(() => directoryWithin(sys, link));
  if (device === undefined) return undefined;
  const ifindexText = attempt(() => {
    using file = openAttribute(link, "ifindex");
    return new TextDecoder().decode(readKernelFile(file, MAX_IFINDEX_BYTES));
  });
  const ifindex = Number(ifindexText?.trim());
  if (ifindexText === undefined || !Number.isInteger(ifindex)) return undefined;
  // Where the link leads names the device: devices/virtual/net/lo has no bus device behind it.
  const devicePath = device.slice(sys.length);
  // One listing instead of two lookups of names that are mostly missing (a failed lookup costs
  // twice a listing: Deno builds the error it throws); phy80211 is listed as itself, not followed.
  let isWireless = false;
  for (const entry of attempt(() => [...Deno.readDirSync(link)]) ?? []) {
    if (entry.name === "wireless" || entry.name === "phy80211") isWireless = true;
  }
  const flags = attempt(() => openAttribute(link, "flags"));
  return {
    name,
    ifindex,
    isVirtual: devicePath.includes("devices/virtual/"),
    isWireless,
    flags,
  };
}

/** The value of `read`, or undefined when it throws (missing, removed meanwhile, not allowed). */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
