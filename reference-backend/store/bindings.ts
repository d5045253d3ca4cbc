// reference-backend/store/bindings.ts: which hosts use one sensor token (docs/api.md, Copied
// hosts). A request made with a sensor token may carry Sensor-Host-Binding, a keyed hash of the
// host's machine id: the same on every request of one host, different on another. Two different
// bindings with one token mean the token's env file runs on two hosts (a cloned VM): the sensor is
// a duplicate. The record keeps the newest MAX_SEEN bindings with what each host last reported, and
// counts the distinct ones by their first digits up to MAX_DISTINCT, so its size stays bounded
// however many copies beat. Pure; the usual beat (the binding of the last one) costs a comparison
// and two small objects, and the record is written by the beat anyway.

/** Bindings kept per token, the newest first (the admin API shows them all). */
export const MAX_SEEN = 8;
/** Distinct bindings counted per token; past it, no more are counted. */
export const MAX_DISTINCT = 32;
/** How much of a binding the record counts by and the admin API shows. */
export const SHOWN_BINDING_DIGITS = 12;
// Linux host names are at most 64 bytes; a longer one is kept cut, which bounds the record.
const HOSTNAME_KEPT = 64;

/** One host seen with the token: its binding, what it last reported, and when. */
export interface BindingSeen {
  readonly binding: string;
  /** As its last beat said; "" while only a rotation request (no body) came from it. */
  readonly hostname: string;
  readonly sensorIp: string;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
}

/** The hosts seen with the token in use. */
export interface BindingsSeen {
  /** The newest first, at most MAX_SEEN. */
  readonly seen: readonly BindingSeen[];
  /** The first SHOWN_BINDING_DIGITS digits of each distinct binding, at most MAX_DISTINCT. */
  readonly distinct: readonly string[];
  /** When a second binding first came: the sensor has been a duplicate since. */
  readonly duplicateSince: number | null;
}

/** A binding as one request carried it, with the host's name and address when it said them. */
export interface Sighting {
  readonly binding: string;
  readonly hostname: string | null;
  readonly sensorIp: string | null;
}

/** No sighting: a request without a binding (allocated once). */
export const NO_SIGHTINGS: readonly Sighting[] = Object.freeze([]);

const NONE_SEEN: BindingsSeen = { seen: [], distinct: [], duplicateSince: null };

/**
 * How many different bindings were seen with the token in use (counted up to MAX_DISTINCT). The
 * kept ones are told apart whole: two bindings that share their first digits still count as two.
 */
export function bindingCount(bindings: BindingsSeen | null | undefined): number {
  return bindings == null ? 0 : Math.max(bindings.distinct.length, bindings.seen.length);
}

/** True when two different bindings were seen with the token in use. */
export function isDuplicate(bindings: BindingsSeen | null | undefined): boolean {
  return bindingCount(bindings) >= 2;
}

/**
 * The sightings of two requests merged into one write (the later's first), one per binding, at
 * most MAX_DISTINCT: copies beating at the same moment are all noted, and counted.
 */
export function mergeSightings(
  earlier: readonly Sighting[],
  later: readonly Sighting[],
): readonly Sighting[] {
  if (earlier.length === 0) return later;
  if (later.length === 0) return earlier;
  if (earlier.length === 1 && later.length === 1 && earlier[0].binding === later[0].binding) {
    return later;
  }
  const merged = [...later];
  for (const sighting of earlier) {
    if (!merged.some((kept) => kept.binding === sighting.binding)) merged.push(sighting);
  }
  return merged.slice(0, MAX_DISTINCT);
}

/**
 * `sensor` with `sightings` (the newest first) noted at `now`; `sensor` itself when there are none
 * (a request without a binding never makes a duplicate).
 */
export function noteSightings<S extends { readonly bindings?: BindingsSeen | null }>(
  sensor: S,
  sightings: readonly Sighting[],
  now: number,
): S {
  if (sightings.length === 0) return sensor;
  let bindings = sensor.bindings ?? NONE_SEEN;
  for (let i = sightings.length - 1; i >= 0; i--) bindings = note(bindings, sightings[i], now);
  return { ...sensor, bindings };
}

function note(bindings: BindingsSeen, sighting: Sighting, now: number): BindingsSeen {
  const { seen } = bindings;
  const at = seen.findIndex((entry) => entry.binding === sighting.binding);
  const before = at === -1 ? undefined : seen[at];
  const entry: BindingSeen = {
    binding: sighting.binding,
    hostname: sighting.hostname?.slice(0, HOSTNAME_KEPT) ?? before?.hostname ?? "",
    sensorIp: sighting.sensorIp ?? before?.sensorIp ?? "",
    firstSeenAt: before?.firstSeenAt ?? now,
    lastSeenAt: now,
  };
  // The usual case: the host of the last request again.
  if (at === 0) return { ...bindings, seen: [entry, ...seen.slice(1)] };
  const others = at === -1 ? seen : seen.filter((_, i) => i !== at);
  const short = sighting.binding.slice(0, SHOWN_BINDING_DIGITS);
  const distinct = bindings.distinct.includes(short) || bindings.distinct.length >= MAX_DISTINCT
    ? bindings.distinct
    : [...bindings.distinct, short];
  const noted = { seen: [entry, ...others].slice(0, MAX_SEEN), distinct, duplicateSince: null };
  return { ...noted, duplicateSince: bindings.duplicateSince ?? (isDuplicate(noted) ? now : null) };
}
