// lib/commands/enroll.ts: `enroll`, and the enrollment `run` begins with: enroll once under the
// config lock, persist the sensor token, and say what the agent starts reporting with. Returns the
// exit code of docs/configuration.md, Exit codes.
import { mark } from "../timing.ts";
import {
  bindingVerdict,
  type Config,
  loadConfig,
  reloadConfig,
  saveSensorToken,
} from "../config/mod.ts";
import {
  type Backend,
  backendFor,
  DEFAULT_INTERVAL_SECONDS,
  type Enrollment,
  enrollmentPayload,
  requestEnrollment,
  TransportError,
} from "../backend/mod.ts";
import { AgentError, describe, ExitCode } from "../errors.ts";
import { collectSnapshot } from "../host/mod.ts";
import { log, warnOnce } from "../log.ts";
import { checkWritable, lockConfigUnlessStopped } from "../store/mod.ts";
import { fingerprint, registerSecret } from "../secrets.ts";
import type { CommandContext } from "./context.ts";
import { enrollsCopy, fromEnvironment, type HostIdentity, hostIdentity } from "./identity.ts";

/** An agent ready to report: its configuration, its sensor token and the interval to start with. */
export interface Enrolled {
  readonly config: Config;
  readonly sensorToken: string;
  readonly intervalSeconds: number;
  /** This host's binding, sent with every request made with the token; none without a machine id. */
  readonly hostBinding?: string;
  /**
   * Where the next start finds the token: the env file (where a rotated token is saved), the
   * environment, or nowhere (`run` enrolled, and the save failed).
   */
  readonly tokenHome: "file" | "environment" | "memory";
  /** True when the env file holds this host's binding beside the token. */
  readonly bindingSaved: boolean;
}

/**
 * Makes sure the sensor is enrolled and returns its token, or undefined when a signal stopped the
 * enrollment. Holds the config lock from reading the config to persisting, so a second agent waits,
 * re-reads, finds SENSOR_TOKEN and skips (docs/configuration.md). `mode` decides what a failed
 * write means: `enroll` checks before spending the token (73); `run` warns and keeps the token in
 * memory.
 */
export async function ensureEnrolled(
  ctx: CommandContext,
  mode: "run" | "enroll",
  force = false,
): Promise<Enrolled | undefined> {
  // Every check that needs no backend runs before the lock, a directory or a temporary file is
  // made, so that a configuration error leaves the machine as it was.
  const unlocked = ctx.config;
  let identity: HostIdentity | undefined;
  if (unlocked.sensorToken !== undefined && !force) {
    identity = await hostIdentity(unlocked);
    if (!enrollsCopy(unlocked, identity)) {
      return alreadyEnrolled(unlocked, unlocked.sensorToken, identity);
    }
  }
  checkReadyToEnroll(unlocked);
  const backend = await backendFor(unlocked); // BACKEND_URL and BACKEND_CA_FILE: 78s too
  identity ??= await hostIdentity(unlocked); // after the 78s: its warning is no news then
  try {
    // (enroll's check of where its config really lies ran first of all, in main.ts: its 73 comes
    // before any 78.)
    return await enrollUnderLock(ctx, mode, force, backend, identity);
  } finally {
    backend.client?.close();
  }
}

async function enrollUnderLock(
  ctx: CommandContext,
  mode: "run" | "enroll",
  force: boolean,
  backend: Backend,
  identity: HostIdentity,
): Promise<Enrolled | undefined> {
  const lock = await lockConfigUnlessStopped(ctx.configPath, ctx.signal);
  mark("locked");
  if (lock === undefined) {
    log.info("stopped by a signal while waiting for the config lock; nothing was sent");
    return undefined;
  }
  try {
    if (!lock.held) {
      log.warn("cannot lock the config; going on without the lock", {
        path: `${ctx.configPath}.lock`,
        reason: lock.reason,
      });
    }
    // Re-read under the lock: another agent may have enrolled. After a wait for its lock, loaded
    // afresh (what the path settings name may have changed too); taken at once, only the file
    // can have changed in the few ms since the first load (reloadConfig).
    const config = lock.waited ? await loadConfig(ctx.configPath) : await reloadConfig(ctx.config);
    const copy = enrollsCopy(config, identity);
    if (config.sensorToken !== undefined && !force && !copy) {
      return alreadyEnrolled(config, config.sensorToken, identity);
    }
    if (copy) {
      log.warn(
        "the env file was enrolled on another machine (a copy); enrolling this host with its install token",
        { path: ctx.configPath },
      );
    }
    const enrollment = await enroll(config, backend, ctx, mode, identity.machineId);
    if (enrollment === undefined) return undefined;
    const saved = await save(ctx.configPath, enrollment.sensorToken, identity.hostBinding, mode);
    return {
      config,
      sensorToken: enrollment.sensorToken,
      intervalSeconds: enrollment.heartbeatIntervalSeconds,
      hostBinding: identity.hostBinding,
      tokenHome: !saved ? "memory" : fromEnvironment(config) ? "environment" : "file",
      bindingSaved: saved && identity.hostBinding !== undefined,
    };
  } finally {
    lock.release();
  }
}

function alreadyEnrolled(config: Config, sensorToken: string, identity: HostIdentity): Enrolled {
  log.info("already enrolled; enrollment skipped", { token: fingerprint(sensorToken) });
  return {
    config,
    sensorToken,
    intervalSeconds: DEFAULT_INTERVAL_SECONDS,
    hostBinding: identity.hostBinding,
    tokenHome: fromEnvironment(config) ? "environment" : "file",
    bindingSaved: bindingVerdict(config.hostBinding, identity.hostBinding) === "this host",
  };
}

/** The 78s of an enrollment about to spend its install token: no token, or a file unsafe to rewrite. */
function checkReadyToEnroll(config: Config): asserts config is Config & { installToken: string } {
  if (config.installToken === undefined) {
    throw new AgentError(
      ExitCode.config,
      `not enrolled and no install token: INSTALL_TOKEN is missing from the environment and ${config.configPath}`,
      "Obtain an install token (the backend's admin API or console mints them) and set INSTALL_TOKEN or INSTALL_TOKEN_FILE",
    );
  }
  if (config.rewriteHazard !== undefined) {
    throw new AgentError(
      ExitCode.config,
      `${config.rewriteHazard}; the sensor token is not requested, so the install token is not spent`,
      "Fix that line (plain KEY=value lines with LF endings are read alike by every consumer), then start again",
    );
  }
}

async function enroll(
  config: Config,
  backend: Backend,
  ctx: CommandContext,
  mode: "run" | "enroll",
  machineId: string | undefined,
): Promise<Enrollment | undefined> {
  checkReadyToEnroll(config); // again: the file may have changed while we waited for the lock
  if (mode === "enroll") await checkWritable(config.configPath);
  const snapshot = await collectSnapshot(config);
  mark("host");
  if (snapshot.degraded) warnOnce(snapshot.degraded);
  const payload = enrollmentPayload(
    config.installToken,
    snapshot.facts,
    snapshot.sensorIp,
    config.sensorPort,
    snapshot.interfaces,
  );
  log.info("enrolling", {
    backend: backend.url.href,
    installToken: fingerprint(config.installToken),
    hostname: snapshot.facts.hostname,
    sensorIp: snapshot.sensorIp ?? null,
    interfaces: snapshot.interfaces.length,
  });
  try {
    const enrollment = await requestEnrollment(backend, payload, machineId, ctx.signal);
    mark("enrolled");
    registerSecret(enrollment.sensorToken);
    if (enrollment.intervalWarning) log.warn(enrollment.intervalWarning);
    log.info("enrolled", {
      sensorId: enrollment.sensorId ?? null,
      backendUrl: enrollment.backendUrl ?? null,
      heartbeatIntervalSeconds: enrollment.heartbeatIntervalSeconds,
      token: fingerprint(enrollment.sensorToken),
    });
    return enrollment;
  } catch (error) {
    if (error instanceof TransportError && error.kind === "aborted") {
      log.info("stopped by a signal before enrollment completed; nothing was saved");
      return undefined;
    }
    throw error;
  }
}

/** Saves the token (and this host's binding); true when saved. `run` goes on when it cannot. */
async function save(
  configPath: string,
  sensorToken: string,
  hostBinding: string | undefined,
  mode: "run" | "enroll",
): Promise<boolean> {
  try {
    await saveSensorToken(configPath, sensorToken, hostBinding);
    mark("saved");
    log.info("sensor token saved", { path: configPath, token: fingerprint(sensorToken) });
    return true;
  } catch (error) {
    if (mode === "enroll") {
      throw new AgentError(
        ExitCode.cantCreate,
        `enrolled, but the sensor token could not be saved: ${describe(error)}`,
        "The install token is spent: free the disk or fix the permissions, obtain a new install token, and run enroll again",
      );
    }
    // The description's rule: a failed write must not take the sensor offline.
    log.warn("the sensor token could not be saved; going on with it in memory", {
      path: configPath,
      reason: describe(error),
    });
    return false;
  }
}

/** `enroll`: enrolls if needed (or again with `force`), persists, returns 0. */
export async function enrollCommand(ctx: CommandContext, force: boolean): Promise<ExitCode> {
  await ensureEnrolled(ctx, "enroll", force);
  return ExitCode.ok;
}
