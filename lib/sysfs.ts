// lib/sysfs.ts: what sysfs says about one interface once, when the set is detected
// (docs/protocol.md, Interfaces). Every path goes through <sys>/class/net/<if>: the shipped
// permission set grants read of <sys>/class/net only, not of <sys>/devices where the links lead.

/** An interface's lasting facts, and its flags file kept open for the beats to come. */
export interface Classified {
  readonly name: string;
  readonly ifindex: number;
  readonly isVirtual: boolean;
  readonly isWireless: boolean;
  /** <sys>/class/net/<if>/flags, open; undefined when it could not be opened. */
  readonly flags?: Deno.FsFile;
}

/**
 * Reads the entry `name` of `classNet` (<sys>/class/net): its ifindex, whether its device is
 * virtual or wireless, and opens its flags file. Undefined when the entry is not an interface (no
 * ifindex: bonding_masters) or went away meanwhile. The caller closes `flags`.
 */
export function classify(classNet: string, name: string): Classified | undefined {
  const link = `${classNet}/${name}`;
  const ifindexText = attempt(() => Deno.readTextFileSync(`${link}/ifindex`));
  const ifindex = Number(ifindexText?.trim());
  if (ifindexText === undefined || !Number.isInteger(ifindex)) return undefined;
  // The link's target names the device: ../../devices/virtual/net/lo has no bus device behind it.
  const devicePath = attempt(() => Deno.readLinkSync(link)) ?? "";
  // One listing instead of two lookups of names that are mostly missing (a failed lookup costs
  // twice a listing: Deno builds the error it throws); phy80211 is listed as itself, not followed.
  let isWireless = false;
  for (const entry of attempt(() => [...Deno.readDirSync(link)]) ?? []) {
    if (entry.name === "wireless" || entry.name === "phy80211") isWireless = true;
  }
  const flags = attempt(() => Deno.openSync(`${link}/flags`, { read: true }));
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
