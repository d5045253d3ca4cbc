// reference-backend/api/alerts.ts: the alert sweep. Every few seconds, on a timer and never on a
// request's path, it judges every sensor of the fleet in memory: one that went silent, or came
// back, and one whose token a second host started to use (a duplicate: a cloned VM, a copied env
// file) is an audit event ("sensor.silent", "sensor.back", "sensor.duplicate") and, with
// ALERT_WEBHOOK_URL, a JSON POST (http/webhook.ts). What was reported is kept in the store, so a
// restart neither repeats a report nor misses a return. After a start a sensor gets
// ONLINE_INTERVALS intervals to beat before it counts as silent: a backend that was down must not
// report the whole fleet.
import { log } from "../../lib/log.ts";
import { type DeliveryPolicy, Webhook } from "../http/mod.ts";
import { isDuplicate, type SensorRecord, sensorState, type Store } from "../store/mod.ts";
import { sensorName } from "./admin.ts";
import { record } from "./audit.ts";

/** What the sweep needs: the store, the interval, where to POST (if anywhere). */
export interface AlertOptions {
  readonly store: Store;
  readonly heartbeatIntervalSeconds: number;
  readonly webhookUrl?: string;
  /** The webhook's waits and bounds (tests shorten them). */
  readonly delivery?: DeliveryPolicy;
}

/** A running sweep; `stop` ends it and the webhook's deliveries. */
export interface AlertSweep {
  stop(): Promise<void>;
}

type AlertEvent = "sensor.silent" | "sensor.back" | "sensor.duplicate";

/** Starts the sweep: every half interval, from 0.5 s to 5 s apart. */
export async function startAlerts(options: AlertOptions): Promise<AlertSweep> {
  const { store, heartbeatIntervalSeconds: interval } = options;
  const startedAt = Date.now();
  const reported = await store.silentMarks.load();
  const duplicates = await store.duplicateMarks.load();
  const webhook = options.webhookUrl === undefined
    ? undefined
    : new Webhook(options.webhookUrl, options.delivery);
  const every = Math.min(5000, Math.max(500, interval * 500));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const report = async (sensor: SensorRecord, event: AlertEvent) => {
    const now = Date.now();
    const lastSeenAt = new Date(sensor.lastSeenAt).toISOString();
    const hosts = (sensor.bindings?.seen ?? []).map((host) => ({
      hostname: host.hostname,
      sensorIp: host.sensorIp,
      lastSeenAt: new Date(host.lastSeenAt).toISOString(),
    }));
    const duplicate = event === "sensor.duplicate";
    await record(store, {
      at: now,
      who: "backend",
      from: null,
      action: event,
      target: `sensor ${sensor.id}`,
      detail: duplicate
        ? `${sensorName(sensor)}, its token used by ${hosts.length} hosts: ${
          hosts.map((host) => `${host.hostname || "(asked for a token only)"} ${host.sensorIp}`)
            .join(", ")
        }`
        : `${sensorName(sensor)}, last beat ${lastSeenAt}`,
    });
    webhook?.send({
      event,
      at: new Date(now).toISOString(),
      sensor: {
        id: sensor.id,
        label: sensor.label,
        hostname: sensor.hostname,
        sensorIp: sensor.sensorIp,
        lastSeenAt,
      },
      ...(duplicate ? { hosts } : {}),
    });
  };

  /** Reports a sensor that became a duplicate since its last report; forgets one no longer one. */
  const judgeDuplicate = async (sensor: SensorRecord) => {
    const since = sensor.revokedAt === null && isDuplicate(sensor.bindings)
      ? sensor.bindings?.duplicateSince ?? null
      : null;
    const marked = duplicates.get(sensor.id);
    if (since === null) {
      if (marked === undefined) return;
      duplicates.delete(sensor.id);
      await store.duplicateMarks.unmark(sensor.id);
      return;
    }
    if (marked === since) return;
    duplicates.set(sensor.id, since);
    await store.duplicateMarks.mark(sensor.id, since);
    await report(sensor, "sensor.duplicate");
  };

  const sweep = async () => {
    const now = Date.now();
    const present = new Set<string>();
    for (const sensor of [...store.fleet()]) {
      present.add(sensor.id);
      await judgeDuplicate(sensor);
      const state = sensorState(sensor.lastSeenAt, sensor.revokedAt, now, interval);
      const was = reported.has(sensor.id);
      if (state === "revoked" || (was && state !== "silent")) {
        if (!was) continue;
        reported.delete(sensor.id);
        await store.silentMarks.unmark(sensor.id);
        if (state !== "revoked") await report(sensor, "sensor.back");
        continue;
      }
      // Silent counts from the start at the latest: sensors beat again once the backend is back.
      const since = Math.max(sensor.lastSeenAt, startedAt);
      if (was || sensorState(since, null, now, interval) !== "silent") continue;
      reported.set(sensor.id, now);
      await store.silentMarks.mark(sensor.id, now);
      await report(sensor, "sensor.silent");
    }
    // Removed sensors: their marks went with them.
    for (const marks of [reported, duplicates]) {
      for (const id of marks.keys()) if (!present.has(id)) marks.delete(id);
    }
  };

  const loop = () => {
    running = sweep().catch((error) => {
      log.error(`alert sweep failed: ${String(error).split("\n")[0]}`);
    }).finally(() => {
      if (!stopped) timer = setTimeout(loop, every);
    });
  };
  timer = setTimeout(loop, every);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await webhook?.close();
    },
  };
}
