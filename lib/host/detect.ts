// lib/host/detect.ts: detecting the host's set of interfaces (docs/protocol.md, Interfaces), what
// the watcher does when the set may have changed: the names under <sys>/class/net, each classified
// once (sysfs.ts), matched with the rows of <proc>/net/dev already read, and put in ifindex order.
// The watcher keeps the result and reads only counters and flags until the next detection.
import { UnfitFileError } from "../store/mod.ts";
import { directoryWithin } from "./kernelfile.ts";
import { scanNetDevText } from "./netdev.ts";
import { type Classified, classify } from "./sysfs.ts";

/** One interface as kept between beats: what was detected once, and this beat's counters. */
export interface Watched extends Classified {
  bytesRecv: number;
  bytesSent: number;
}

/** A net/dev row as seen when the set was detected: the name's bytes and its interface. */
export interface Row {
  readonly name: Uint8Array;
  readonly watched?: Watched;
}

/** A detected set: the interfaces in ifindex order, and net/dev's rows in its own order. */
export interface DetectedSet {
  readonly watched: Watched[];
  readonly rows: Row[];
}

/**
 * The entries of `classNet` (<sys>/class/net under the root `sys`), listed only where the directory
 * really is: a link out of the root leads to some other directory's names. Throws what the listing
 * throws (NotFound, NotCapable, UnfitFileError).
 */
export function listInterfaces(sys: string, classNet: string): string[] {
  const real = directoryWithin(sys, classNet);
  if (real !== classNet) throw UnfitFileError.moved(real);
  const names: string[] = [];
  for (const entry of Deno.readDirSync(classNet)) names.push(entry.name);
  return names;
}

/**
 * The set made of `names` (listInterfaces) and the net/dev rows in `netDev[0, length)`: each name
 * classified, with its counters from its row. The flags files it opens are the caller's to close;
 * so are those of `before` (the last detection's set) that it did not keep.
 */
export function detectSet(
  sys: string,
  classNet: string,
  names: readonly string[],
  netDev: Uint8Array,
  length: number,
  before: readonly Watched[] = [],
): DetectedSet {
  const previous = new Map(before.map((watched) => [watched.name, watched]));
  const byName = new Map<string, Watched>();
  for (const name of names) {
    const classified = classify(sys, classNet, name, previous.get(name));
    if (classified !== undefined) byName.set(name, { ...classified, bytesRecv: 0, bytesSent: 0 });
  }
  const decoder = new TextDecoder();
  const rows: Row[] = [];
  scanNetDevText(netDev, length, (start, end, recv, sent) => {
    const name = netDev.slice(start, end);
    const watched = byName.get(decoder.decode(name));
    if (watched !== undefined) {
      watched.bytesRecv = recv;
      watched.bytesSent = sent;
    }
    rows.push({ name, watched });
  });
  // Section 5: ordered by ifindex; an interface missing from net/dev (created between the two
  // reads) counts 0/0 until the next beat sees its row.
  const watched = [...byName.values()].sort((a, b) =>
    a.ifindex - b.ifindex || (a.name < b.name ? -1 : 1)
  );
  return { watched, rows };
}
