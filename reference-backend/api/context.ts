// reference-backend/api/context.ts: what every route is handed: the backend's options (the store
// and the settings the routes check or hand out) and the state the routes share across requests
// (failure counts, the heartbeat writer, the downloads' digests). Types only.
import type { HeartbeatBody } from "../../lib/backend/mod.ts";
import type { FailureLimit, FailureLimiter, GuessBackoff } from "../http/mod.ts";
import type { AgentBinary, Downloads, FileDigests } from "../install/mod.ts";
import type { Coalescer, SensorRecord, Sighting, Store } from "../store/mod.ts";

/** What the routes need: the store and the settings they check or hand out. */
export interface ServerOptions {
  readonly store: Store;
  readonly adminToken: string;
  readonly heartbeatIntervalSeconds: number;
  /** The backend's own address, sent to agents as `backendUrl` and used in installCommand. */
  readonly publicUrl: string;
  /** The agent binary installCommand downloads; unset: ./sensor-agent on the host. */
  readonly agentBinary?: AgentBinary;
  /** install.sh and the unit, served unauthenticated for installCommand (install/downloads.ts). */
  readonly downloads: Downloads;
  /** DEV_INSECURE_HTTP=1: installCommand may use an http:// publicUrl, and says so. */
  readonly insecureHttp?: boolean;
  /** Failed enrollments allowed per client address (default: 10 per 600 s). */
  readonly enrollFailures?: FailureLimit;
  /** Proxies whose X-Forwarded-For names the client (http/client.ts); none by default. */
  readonly trustedProxies?: ReadonlySet<string>;
  /** A sensor token older than this many days is asked to rotate (0: never; default 90). */
  readonly sensorTokenMaxAgeDays?: number;
  /** The server's clock, in ms since the epoch (default Date.now): tests set the time. */
  readonly clock?: () => number;
}

/** What a handler is told besides the request: the socket's peer (Deno.serve's info has it). */
export interface RequestInfo {
  readonly remoteAddr: Deno.NetAddr;
}

/** The options, with the state the routes share across requests (one per createHandler). */
export interface Context extends ServerOptions {
  readonly failedEnrollments: FailureLimiter;
  /** Wrong admin tokens per client address: Bearer on /api/ and console logins together. */
  readonly adminGuesses: GuessBackoff;
  readonly beats: Coalescer<Beat, SensorRecord | null>;
  readonly digests: () => FileDigests;
}

/**
 * Heartbeats of one sensor waiting for a write, merged: the latest body, how many, and the host
 * bindings they carried.
 */
export interface Beat {
  readonly body: HeartbeatBody;
  readonly now: number;
  readonly count: number;
  readonly sightings: readonly Sighting[];
}

/** A route: the request, the shared state, the time and the real client's address. */
export type Handler = (
  request: Request,
  options: Context,
  now: number,
  client: string,
) => Promise<Response>;
