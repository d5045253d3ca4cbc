// lib/host/sysfs.ts: what sysfs says about one interface once, when the set is detected
// (docs/protocol.md, Interfaces). Every path goes through <sys>/class/net/<if>: the shipped
// permission set grants read of <sys>/class/net only, not of <sys>/devices where the links lead.
// Deno checks the path string, not where the link leads, so the link must lead inside the root, and
// each attribute read must be a regular file (lib/host/kernelfile.ts).
import {
  directoryWithin,
  type FileIdentity,
  isStillAttribute,
  openAttribute,
  openAttributeOf,
  readKernelFile,
} from "./kernelfile.ts";

/** An interface's lasting facts, and its flags file kept open for the beats to come. */
export interface Classified {
  readonly name: string;
  readonly ifindex: number;
  readonly isVirtual: boolean;
  readonly isWireless: boolean;
  /** <sys>/class/net/<if>/flags, open; undefined when it could not be opened. */
  readonly flags?: Deno.FsFile;
  /** The file `flags` is, as judged when it was opened. */
  readonly flagsIdentity?: FileIdentity;
  /** A device directly in devices/virtual/net/: software, never wireless. */
  readonly isSoftware: boolean;
}

/** An ifindex is a decimal int: a few bytes, whatever a hostile tree puts there. */
const MAX_IFINDEX_BYTES = 32;

/**
 * Reads the entry `name` of `classNet` (<sys>/class/net under the root `sys`): its ifindex,
 * whether its device is virtual or wireless, and opens its flags file. Undefined when the entry is
 * not an interface (no ifindex: bonding_masters), leads out of `sys`, or went away meanwhile. The
 * caller closes `flags`. With `before`, this interface as the last detection classified it: where
 * the path still names the flags file held open then, it is the same device (sysfs gives a new
 * device new files, and no file held open can be freed for its number to be reused), so its
 * ifindex and where it lies are kept with the file, which is then this result's to own; only
 * whether it is wireless is looked at again.
 */
export function classify(
  sys: string,
  classNet: string,
  name: string,
  before?: Classified,
): Classified | undefined {
  const link = `${classNet}/${name}`;
  if (
    before?.flags !== undefined && before.flagsIdentity !== undefined &&
    isStillAttribute(link, "flags", before.flagsIdentity)
  ) {
    return { ...before, isWireless: !before.isSoftware && isWirelessEntry(link) };
  }
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
  const isSoftware = SOFTWARE_DEVICE.test(devicePath);
  const opened = attempt(() => openAttributeOf(link, "flags"));
  return {
    name,
    ifindex,
    isVirtual: devicePath.includes("devices/virtual/"),
    isWireless: !isSoftware && isWirelessEntry(link),
    isSoftware,
    flags: opened?.file,
    flagsIdentity: opened?.identity,
  };
}

/**
 * A netdev registered without a parent device, which sysfs places directly in devices/virtual/net/
 * (veth, bridge, bond, tun, vlan...). A wireless netdev always has one, its wiphy's device, so such
 * an interface is never wireless and its directory need not be listed: on a host of containers,
 * nearly every interface.
 */
const SOFTWARE_DEVICE = /^\/devices\/virtual\/net\/[^/]+$/;

/** True when the interface's sysfs directory `link` holds `wireless` or `phy80211`. */
function isWirelessEntry(link: string): boolean {
  // One listing instead of two lookups of names that are mostly missing (a failed lookup costs
  // twice a listing: Deno builds the error it throws); phy80211 is listed as itself, not followed.
  for (const entry of attempt(() => [...Deno.readDirSync(link)]) ?? []) {
    if (entry.name === "wireless" || entry.name === "phy80211") return true;
  }
  return false;
}

/** The value of `read`, or undefined when it throws (missing, removed meanwhile, not allowed). */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
