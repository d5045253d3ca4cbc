// reference-backend/store/interfaces.ts: a sensor's interface list packed for Deno KV. A KV value
// holds at most 64 KiB and an atomic write 800 KiB, while a heartbeat may carry up to 1 MiB of
// interfaces; as [name, flags, bytesSent, bytesRecv] tuples the list takes well under half its JSON
// size, and is stored as UTF-8 slices of at most 60,000 bytes. Pure.
import type { NetworkInterface } from "../../lib/host/mod.ts";

const CHUNK_BYTES = 60_000;
const FLAGS = ["isManagement", "isLoopback", "isVirtual", "isWireless", "isUp"] as const;

type Packed = [name: string, flags: number, bytesSent: number, bytesRecv: number];

/** The list as slices of UTF-8 JSON, each small enough for one KV value; [] for an empty list. */
export function packInterfaces(list: readonly NetworkInterface[]): Uint8Array[] {
  if (list.length === 0) return [];
  const tuples: Packed[] = list.map((nic) => [
    nic.name,
    FLAGS.reduce((bits, flag, i) => nic[flag] ? bits | (1 << i) : bits, 0),
    nic.bytesSent,
    nic.bytesRecv,
  ]);
  const bytes = new TextEncoder().encode(JSON.stringify(tuples));
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += CHUNK_BYTES) {
    chunks.push(bytes.slice(start, start + CHUNK_BYTES));
  }
  return chunks;
}

/** The list `packInterfaces` packed, from its slices in order. */
export function unpackInterfaces(chunks: readonly Uint8Array[]): NetworkInterface[] {
  if (chunks.length === 0) return [];
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  const tuples = JSON.parse(new TextDecoder().decode(bytes)) as Packed[];
  return tuples.map(([name, flags, bytesSent, bytesRecv]) => ({
    name,
    isManagement: (flags & 1) !== 0,
    isLoopback: (flags & 2) !== 0,
    isVirtual: (flags & 4) !== 0,
    isWireless: (flags & 8) !== 0,
    isUp: (flags & 16) !== 0,
    bytesSent,
    bytesRecv,
  }));
}
