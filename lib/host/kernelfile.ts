// lib/host/kernelfile.ts: opening the procfs and sysfs files the inventory reads (docs/protocol.md,
// Interfaces) only where they are what they must be. Deno checks a read against the path string,
// so a root that is a plain directory (a test tree, `deno task try`'s) could hold a FIFO, which
// would block the agent deaf to SIGTERM, a link to /dev/zero, which would fill its memory, or a
// link out of the grant. Each file is therefore resolved and stat'ed before it is opened, and
// judged again once open. Synchronous, like the watcher: procfs and sysfs answer from memory.
import { isWithin, leadsWhereNamed } from "../config/mod.ts";
import { tooLarge, UnfitFileError, unfitness } from "../store/mod.ts";

/**
 * Opens `path` under `root` if it resolves where it is named (leadsWhereNamed) and is a regular
 * file. Throws UnfitFileError for what it refuses, Deno's errors for what it cannot do.
 */
export function openKernelFile(root: string, path: string): Deno.FsFile {
  const real = Deno.realPathSync(path);
  if (!leadsWhereNamed(root, path, real)) throw UnfitFileError.moved(real);
  return openJudged(path, Deno.statSync(path), Deno.statSync);
}

/**
 * Opens `name` in an interface's sysfs directory `dir` (already found inside the root), if it is a
 * regular file and not a link: sysfs attributes never are.
 */
export function openAttribute(dir: string, name: string): Deno.FsFile {
  return openAttributeOf(dir, name).file;
}

/** Which file an open attribute is: what isStillAttribute compares at the next detection. */
export interface FileIdentity {
  readonly ino: number | null;
  readonly dev: number;
}

/** openAttribute, with the identity of the file it opened. */
export function openAttributeOf(
  dir: string,
  name: string,
): { file: Deno.FsFile; identity: FileIdentity } {
  const path = `${dir}/${name}`;
  const info = Deno.lstatSync(path);
  if (info.isSymlink) throw UnfitFileError.moved(Deno.realPathSync(path));
  return { file: openJudged(path, info, Deno.lstatSync), identity: info };
}

/**
 * True when `name` in `dir` is still the regular file `identity` names, so that a file opened for
 * it before can be kept rather than judged and opened again: one look instead of three. False for
 * anything else, including a path that cannot be looked at.
 */
export function isStillAttribute(dir: string, name: string, identity: FileIdentity): boolean {
  try {
    const now = Deno.lstatSync(`${dir}/${name}`);
    return now.isFile && isSameFile(now, identity);
  } catch {
    return false;
  }
}

/** Where the directory `path` under `root` really is, if inside `root`; else UnfitFileError. */
export function directoryWithin(root: string, path: string): string {
  const real = Deno.realPathSync(path);
  if (!isWithin(real, root)) throw UnfitFileError.moved(real);
  return real;
}

/**
 * Opens the judged file and makes sure the open found that very file. Deno's fstat would refuse a
 * procfs file (it checks the grant against /host/proc/<pid>/net/dev, where the file really is), so
 * the path is looked at again instead, the way `look` first looked at it (stat or lstat).
 */
function openJudged(path: string, judged: Deno.FileInfo, look: (path: string) => Deno.FileInfo) {
  const unfit = unfitness(judged, "kernel", 0);
  if (unfit !== undefined) throw UnfitFileError.of(unfit);
  // No O_NOFOLLOW or O_NONBLOCK in Deno: a swap between the look and the open is caught here, after
  // the open (docs/threat-model.md says what remains).
  const file = Deno.openSync(path, { read: true });
  try {
    const now = look(path);
    if (!isSameFile(now, judged) || !now.isFile) {
      throw UnfitFileError.changed();
    }
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}

/** Reads `file` from offset 0 to its end, at most `maxBytes`; the bytes read. */
export function readKernelFile(file: Deno.FsFile, maxBytes: number): Uint8Array {
  let buffer = new Uint8Array(Math.min(4096, maxBytes + 1));
  let length = 0;
  file.seekSync(0, Deno.SeekMode.Start);
  for (;;) {
    if (length === buffer.length) {
      if (length > maxBytes) throw UnfitFileError.of(tooLarge(maxBytes));
      const grown = new Uint8Array(Math.min(buffer.length * 2, maxBytes + 1));
      grown.set(buffer);
      buffer = grown;
    }
    const n = file.readSync(buffer.subarray(length));
    if (n === null || n === 0) break;
    length += n;
  }
  if (length > maxBytes) throw UnfitFileError.of(tooLarge(maxBytes));
  return buffer.subarray(0, length);
}

/** Reads `file` from offset 0 into `buffer` until the end or the buffer is full; the byte count. */
export function readWhole(file: Deno.FsFile, buffer: Uint8Array): number {
  file.seekSync(0, Deno.SeekMode.Start);
  let length = 0;
  while (length < buffer.length) {
    const n = file.readSync(length === 0 ? buffer : buffer.subarray(length));
    if (n === null || n === 0) break;
    length += n;
  }
  return length;
}

/**
 * Reads a sysfs attribute from offset 0 with one read. The kernel makes an attribute's text whole
 * in one show() call (at most a page) and hands all of it to the first read of a larger buffer, so
 * the read-until-0 of readWhole would only add a second system call per file per beat to learn of
 * the end. Not for procfs files such as net/dev: a seq_file stops a read at a page of records.
 */
export function readAttribute(file: Deno.FsFile, buffer: Uint8Array): number {
  file.seekSync(0, Deno.SeekMode.Start);
  return file.readSync(buffer) ?? 0;
}

/** True when two looks found the same file: the same inode on the same device. */
function isSameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}
