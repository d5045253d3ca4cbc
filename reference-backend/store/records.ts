// reference-backend/store/records.ts: what the store keeps (the layout is in kv.ts) and the pieces
// of a write that enrollment and heartbeats share: a sensor with its interface slices, the counter
// sample of a beat, and a commit that turns the store's size refusal into a 413. Types and pure
// helpers, but for `commit`.
import type { NetworkInterface } from "../../lib/host/mod.ts";
import type { SensorCredential } from "./credentials.ts";
import { packInterfaces } from "./interfaces.ts";
import type { Sealed } from "./tokens.ts";

/** How long a consumed install token and the same Idempotency-Key get the credential again. */
export const REPLAY_WINDOW_MS = 10 * 60_000;

/** An install token, by its digest. */
export interface InstallTokenRecord {
  readonly createdAt: number; // ms since the epoch, server clock
  readonly expiresAt: number;
  readonly note: string | null;
  /**
   * The SENSOR_ID the install command sets (`--sensor-id`); missing in a record minted before
   * tokens had one, and null when the operator gave none.
   */
  readonly label?: string | null;
  readonly consumed: Consumption | null;
}

/** The enrollment that spent an install token. */
export interface Consumption {
  readonly at: number;
  readonly sensorId: string;
  /** SHA-256 of the consuming request's Idempotency-Key; null when it sent none (no replay). */
  readonly idempotencyKeyDigest: string | null;
}

/** What a retried enrollment gets back within the window, sealed under the install token. */
export interface ReplayRecord {
  readonly sensorId: string;
  readonly sealedSensorToken: Sealed;
}

/**
 * One sensor: what it said at enrollment, updated by each heartbeat, and its credential's life
 * (credentials.ts: rotation; bindings.ts: the hosts seen with its token).
 */
export interface SensorRecord extends SensorCredential {
  readonly id: string;
  readonly label: string | null; // SENSOR_ID, from heartbeats
  readonly hostname: string;
  readonly osInfo: string;
  readonly architecture: string;
  readonly agentVersion: string;
  readonly sensorIp: string;
  readonly sensorPort: number;
  readonly sudoUser: string;
  readonly enrolledAt: number;
  readonly lastSeenAt: number;
  readonly heartbeats: number;
  readonly uptimeSeconds: number | null;
  readonly interfaceCount: number;
  /** How many ["sensor_interfaces", id, n] slices hold the list; kept by the store. */
  readonly interfaceSlices: number;
  /**
   * The byte totals of the last RECENT_BEATS beats, oldest first, for the console's rate chart.
   * In the record rather than a key of their own: a beat then writes two rows, not three (beats.ts).
   * Missing in a record written before they moved here: none yet.
   */
  readonly recentCounters?: readonly CounterSample[];
  readonly revokedAt: number | null;
  readonly tokenDigest: string;
  readonly installTokenDigest: string;
}

/** A sensor record with the interface list it goes with. */
export interface SensorUpdate {
  readonly sensor: SensorRecord;
  readonly interfaces: readonly NetworkInterface[];
}

/**
 * A sensor counts as online while its last beat (`lastSeenAt`) is at most this many heartbeat
 * intervals old: the admin API's `online`, and the line past which the console calls it silent.
 */
export const ONLINE_INTERVALS = 3;

/** How many beats' byte totals the store keeps per sensor (the console charts their rates). */
export const RECENT_BEATS = 30;

/** One beat's byte counters, summed over the sensor's interfaces other than loopback. */
export interface CounterSample {
  readonly at: number;
  readonly bytesSent: number;
  readonly bytesRecv: number;
}

// Optimistic writes retry on a conflict; this many conflicts in a row means something is wrong.
export const MAX_ATTEMPTS = 20;

/**
 * The packed interface list may take this many bytes. Deno KV refuses an atomic write over 819,200
 * bytes (keys and values together); the sensor record (its counters included) and, at enrollment,
 * the token records share the write with the list's slices.
 */
export const MAX_STORED_INTERFACE_BYTES = 800_000;

/**
 * An interface list too large for one atomic write: the route answers 413 with this message. A body
 * under the 1 MiB cap can get here only with names no kernel gives an interface (Linux names are 15
 * bytes at most): about 2,000 interfaces named with 64 escaped characters each.
 */
export class TooLargeToStore extends Error {}

/**
 * A write lost its optimistic check MAX_ATTEMPTS times in a row: others write the same record
 * (another backend on a hosted store; in one process coalesce.ts serializes heartbeats). A load
 * condition, not a bug: the route answers 503 with Retry-After.
 */
export class Contended extends Error {}

/**
 * True for the error a local Deno KV store throws when another process holds its SQLite file's
 * write lock longer than the store waits ("database is locked"): two backends on one local store,
 * as the tests run them. A load condition like Contended, answered the same way.
 */
export function isStoreBusy(error: unknown): error is Error {
  return error instanceof Error && /\bdatabase is (locked|busy)\b/i.test(error.message);
}

/** A sensor record and its interface slices, ready to go into an atomic operation. */
export interface SensorWrite {
  /** The record as written (interfaceSlices counted). */
  readonly sensor: SensorRecord;
  readonly mutations: number;
  /** Keys and values together, an upper bound. */
  readonly bytes: number;
  /** Adds the record and the slices to `op`, deleting slices past the new end. */
  add(op: Deno.AtomicOperation): void;
}

// The record's own size, counters and hosts seen included, stays below this with every field at
// its longest (7.5 KiB: tests/reference-backend/store/credentials_test.ts); keys are a few dozen
// bytes each.
const RECORD_BYTES_BOUND = 8 * 1024;
const KEY_BYTES_BOUND = 128;

/**
 * The write of `update` over a record that had `oldSlices` interface slices. Throws
 * TooLargeToStore when the list cannot fit in one atomic operation.
 */
export function sensorWrite(update: SensorUpdate, oldSlices: number): SensorWrite {
  const { id } = update.sensor;
  const slices = packInterfaces(update.interfaces);
  const sliceBytes = slices.reduce((sum, slice) => sum + slice.length, 0);
  if (sliceBytes > MAX_STORED_INTERFACE_BYTES) {
    throw tooLarge(update.interfaces.length, sliceBytes);
  }
  const sensor = { ...update.sensor, interfaceSlices: slices.length };
  const mutations = 1 + Math.max(slices.length, oldSlices);
  return {
    sensor,
    mutations,
    bytes: RECORD_BYTES_BOUND + sliceBytes + mutations * KEY_BYTES_BOUND,
    add(op) {
      op.set(["sensors", id], sensor);
      slices.forEach((slice, n) => op.set(["sensor_interfaces", id, n], slice));
      for (let n = slices.length; n < oldSlices; n++) op.delete(["sensor_interfaces", id, n]);
    },
  };
}

/**
 * Commits `op`; Deno KV's refusal of a write over its size limit becomes TooLargeToStore, and a
 * local store whose write lock another process holds past SQLite's wait becomes Contended.
 */
export async function commit(
  op: Deno.AtomicOperation,
): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
  try {
    return await op.commit();
  } catch (error) {
    // sensorWrite's check leaves room for the rest of the write; this is the net under it.
    if (error instanceof TypeError && /mutation size too large/i.test(error.message)) {
      throw new TooLargeToStore(
        "the body is too large to store in one write; report fewer interfaces or shorter names",
      );
    }
    // Two backend processes on one local store (a hosted Deno KV is the way to run several):
    // a load condition the client is told to retry, not a bug.
    if (error instanceof TypeError && /database is locked/i.test(error.message)) {
      throw new Contended("the store is busy: another process holds its write lock");
    }
    throw error;
  }
}

function tooLarge(count: number, bytes: number): TooLargeToStore {
  return new TooLargeToStore(
    `the interface list (${count} interfaces, ${bytes} bytes stored) is larger than the ` +
      `${MAX_STORED_INTERFACE_BYTES} bytes the store takes in one write; report fewer interfaces ` +
      "or shorter names",
  );
}

/** The beat's totals; loopback is left out: it is the host talking to itself, not the network. */
export function sample(update: SensorUpdate): CounterSample {
  const wire = update.interfaces.filter((nic) => !nic.isLoopback);
  return {
    at: update.sensor.lastSeenAt,
    bytesSent: wire.reduce((sum, nic) => sum + nic.bytesSent, 0),
    bytesRecv: wire.reduce((sum, nic) => sum + nic.bytesRecv, 0),
  };
}
