// lib/host/watcher.ts: the host's interfaces kept between beats (docs/protocol.md;
// docs/protocol.md, Interfaces). Counters and flags are read every beat; the set, each interface's
// classification and its open flags file are kept, because opening a file is what costs under a
// scoped --allow-read (Deno walks every component of the path, a readlink each) and reading an open
// file from offset 0 is all a beat needs: procfs and sysfs regenerate a file's text on every read
// at offset 0. The set is detected again at once when <proc>/net/dev lists other names (added,
// removed, renamed), and fully every `maxAgeMs` (an interface moved between namespaces keeps its
// name but not its files).

import type { HostRoots } from "../config/mod.ts";
import { tooLarge, UnfitFileError } from "../store/mod.ts";
import { holderLookup, inventoryFromAddresses } from "./addresses.ts";
import { unreadableReason, unreadableRoots } from "./degraded.ts";
import { detectSet, listInterfaces, type Row, type Watched } from "./detect.ts";
import type { Inventory, NetworkInterface } from "./interfaces.ts";
import { openKernelFile, readAttribute, readWhole } from "./kernelfile.ts";
import { isLoopbackFlag, isUpFlag, scanFlags, scanNetDev } from "./netdev.ts";

/** How long a detected set is trusted when net/dev's names do not change (docs/protocol.md). */
export const MAX_SET_AGE_MS = 60_000;

/** The most of <proc>/net/dev read: rows of 40,000 interfaces, not the endless file of a device. */
export const MAX_NET_DEV_BYTES = 8 * 1024 * 1024;

/** Options for tests and benchmarks; the defaults are the contract's. */
export interface WatcherOptions {
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

/**
 * The interfaces under `roots`, read again on every `read()`. Holds open files: dispose of it (or
 * `using` it) when done.
 */
export class InterfaceWatcher implements Disposable {
  readonly #classNet: string;
  readonly #netDevPath: string;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #netDev?: Deno.FsFile;
  #netDevOpenedAt = -Infinity;
  #buffer = new Uint8Array(16 * 1024); // grows to fit <proc>/net/dev
  readonly #flagsBuffer = new Uint8Array(64);
  #watched: Watched[] = []; // in ifindex order
  #rows: Row[] = []; // in net/dev's order
  #detectedAt = -Infinity;
  #generation = 0;
  // State of the scan in progress, kept in fields so the row callback is made once, not per beat.
  #rowIndex = 0;
  #rowsMatch = true;
  readonly #onRow = (start: number, end: number, recv: number, sent: number) => {
    const row = this.#rows[this.#rowIndex++];
    if (!this.#rowsMatch || row === undefined || !sameBytes(this.#buffer, start, end, row.name)) {
      this.#rowsMatch = false;
      return;
    }
    if (row.watched !== undefined) {
      row.watched.bytesRecv = recv;
      row.watched.bytesSent = sent;
    }
  };
  readonly #holder = holderLookup();

  constructor(readonly roots: HostRoots, options: WatcherOptions = {}) {
    this.#classNet = `${roots.sys}/class/net`;
    this.#netDevPath = `${roots.proc}/net/dev`;
    this.#maxAgeMs = options.maxAgeMs ?? MAX_SET_AGE_MS;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Counts the detections so far: a caller sees from it that the set may have changed. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * The inventory now: counters and flags read afresh, the set and classification as detected at
   * most `maxAgeMs` ago or when net/dev's names last changed. When a root cannot be read, the
   * address fallback of section 5 with `degraded` saying what is missing and how to grant it.
   * Never throws for a missing or unreadable file.
   */
  read(addresses: readonly Deno.NetworkInterfaceInfo[], sensorIp: string | undefined): Inventory {
    // Judged again with the set: the file is opened afresh, and resolved and stat'ed before that.
    if (this.#now() - this.#netDevOpenedAt >= this.#maxAgeMs) this.#closeNetDev();
    const netDevFailure = this.#readNetDev();
    let length = netDevFailure === undefined ? this.#length : 0;
    if (netDevFailure !== undefined) {
      return this.#fallback(addresses, sensorIp, [[this.#netDevPath, netDevFailure]]);
    }
    this.#rowIndex = 0;
    this.#rowsMatch = this.#now() - this.#detectedAt < this.#maxAgeMs;
    if (this.#rowsMatch) scanNetDev(this.#buffer, length, this.#onRow);
    if (!this.#rowsMatch || this.#rowIndex !== this.#rows.length) {
      const classNetFailure = this.#detect(length);
      if (classNetFailure !== undefined) {
        return this.#fallback(addresses, sensorIp, [[this.#classNet, classNetFailure]]);
      }
      length = this.#length;
    }
    const management = this.#holder(addresses, sensorIp);
    const interfaces: NetworkInterface[] = new Array(this.#watched.length);
    for (let i = 0; i < this.#watched.length; i++) {
      const watched = this.#watched[i];
      const flags = this.#readFlags(watched);
      interfaces[i] = {
        name: watched.name,
        isManagement: watched.name === management,
        isLoopback: isLoopbackFlag(flags),
        isVirtual: watched.isVirtual,
        isWireless: watched.isWireless,
        isUp: isUpFlag(flags),
        bytesSent: watched.bytesSent,
        bytesRecv: watched.bytesRecv,
      };
    }
    return { interfaces };
  }

  /** Closes every file the watcher holds; a later read() opens them again. */
  [Symbol.dispose](): void {
    this.#forgetSet();
    this.#closeNetDev();
  }

  #closeNetDev(): void {
    try {
      this.#netDev?.close();
    } catch { /* already closed */ }
    this.#netDev = undefined;
    this.#netDevOpenedAt = -Infinity;
  }

  #length = 0;

  /** Reads <proc>/net/dev into the buffer (this.#length); returns why not on failure. */
  #readNetDev(): string | undefined {
    try {
      if (this.#netDev === undefined) {
        this.#netDev = openKernelFile(this.roots.proc, this.#netDevPath);
        this.#netDevOpenedAt = this.#now();
      }
      this.#length = readWhole(this.#netDev, this.#buffer);
      while (this.#length === this.#buffer.length) { // full: the file may hold more
        if (this.#buffer.length >= MAX_NET_DEV_BYTES) {
          throw UnfitFileError.of(tooLarge(MAX_NET_DEV_BYTES));
        }
        this.#buffer = new Uint8Array(this.#buffer.length * 2);
        this.#length = readWhole(this.#netDev, this.#buffer);
      }
      return undefined;
    } catch (error) {
      this[Symbol.dispose]();
      return unreadableReason(error);
    }
  }

  /** The flags word of one interface now, or -1 when it cannot be read (removed meanwhile). */
  #readFlags(watched: Watched): number {
    if (watched.flags === undefined) return -1;
    try {
      return scanFlags(this.#flagsBuffer, readAttribute(watched.flags, this.#flagsBuffer));
    } catch {
      this.#detectedAt = -Infinity; // gone: detect the set again at the next beat
      return -1;
    }
  }

  /** Detects the set from <sys>/class/net and the rows in the buffer; the error name on failure. */
  #detect(length: number): string | undefined {
    let names: string[];
    try {
      names = listInterfaces(this.roots.sys, this.#classNet);
    } catch (error) {
      this.#forgetSet();
      return unreadableReason(error);
    }
    // The last set's flags files go to the new one where they are still the same files: at the
    // 60 s refresh of an unchanged host, one look per interface instead of three and an open.
    const before = this.#watched;
    const set = detectSet(this.roots.sys, this.#classNet, names, this.#buffer, length, before);
    const kept = new Set(set.watched.map((watched) => watched.flags));
    closeFlags(before.filter((watched) => !kept.has(watched.flags)));
    this.#watched = set.watched;
    this.#rows = set.rows;
    this.#detectedAt = this.#now();
    this.#generation++;
    return undefined;
  }

  #forgetSet(): void {
    closeFlags(this.#watched);
    this.#watched = [];
    this.#rows = [];
    this.#detectedAt = -Infinity;
  }

  #fallback(
    addresses: readonly Deno.NetworkInterfaceInfo[],
    sensorIp: string | undefined,
    failures: [string, string][],
  ): Inventory {
    // The other root is named too when it fails as well: one warning should fix both.
    if (!failures.some(([path]) => path === this.#classNet)) {
      try {
        Deno.statSync(this.#classNet);
      } catch (error) {
        failures.unshift([this.#classNet, unreadableReason(error)]);
      }
    }
    return {
      interfaces: inventoryFromAddresses(addresses, sensorIp),
      degraded: unreadableRoots(this.roots, failures),
    };
  }
}

/**
 * Reads the inventory from the roots once, holding no file afterwards; falls back to
 * inventoryFromAddresses with `degraded` set when <sys>/class/net or <proc>/net/dev cannot be
 * read. Never throws for a missing or unreadable file. Synchronous on purpose: sysfs and procfs
 * answer from memory, and an async call costs several times the read itself, per file.
 */
export function readInventory(
  roots: HostRoots,
  addresses: readonly Deno.NetworkInterfaceInfo[],
  sensorIp: string | undefined,
): Inventory {
  using watcher = new InterfaceWatcher(roots);
  return watcher.read(addresses, sensorIp);
}

/** Closes each interface's flags file. */
function closeFlags(watched: readonly Watched[]): void {
  for (const { flags } of watched) {
    try {
      flags?.close();
    } catch { /* already closed */ }
  }
}

function sameBytes(bytes: Uint8Array, start: number, end: number, name: Uint8Array): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (bytes[start + i] !== name[i]) return false;
  return true;
}
