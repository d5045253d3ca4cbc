// reference-backend/api/alerts.ts: the alert sweep. Every few seconds, on a timer and never on a
// request's path, it judges every sensor of the fleet in memory: one that went silent, or came
// back, is an audit event ("sensor.silent", "sensor.back") and, with ALERT_WEBHOOK_URL, a JSON POST
// (http/webhook.ts). Which sensors were reported silent is kept in the store, so a restart neither
// repeats a report nor misses a return. After a start a sensor gets ONLINE_INTERVALS intervals to
// beat before it counts as silent: a backend that was down must not report the whole fleet.
import { log } from "../../lib/log.ts";
import { type DeliveryPolicy, Webhook } from "../http/mod.ts";
import { type SensorRecord, sensorState, type Store } from "../store/mod.ts";
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

/** Starts the sweep: every half interval, from 0.5 s to 5 s apart. */
export async function startAlerts(options: AlertOptions): Promise<AlertSweep> {
  const { store, heartbeatIntervalSeconds: interval } = options;
  const startedAt = Date.now();
  const reported = await store.silentMarks.load();
  const webhook = options.webhookUrl === undefined
    ? undefined
    : new Webhook(options.webhookUrl, options.delivery);
  const every = Math.min(5000, Math.max(500, interval * 500));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const report = async (sensor: SensorRecord, event: "sensor.silent" | "sensor.back") => {
    const now = Date.now();
    const lastSeenAt = new Date(sensor.lastSeenAt).toISOString();
    await record(store, {
      at: now,
      who: "backend",
      from: null,
      action: event,
      target: `sensor ${sensor.id}`,
      detail: `${sensorName(sensor)}, last beat ${lastSeenAt}`,
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
    });
  };

  const sweep = async () => {
    const now = Date.now();
    const present = new Set<string>();
    for (const sensor of [...store.fleet()]) {
      present.add(sensor.id);
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
      reported.add(sensor.id);
      await store.silentMarks.mark(sensor.id, now);
      await report(sensor, "sensor.silent");
    }
    for (const id of reported) {
      if (present.has(id)) continue;
      reported.delete(id); // removed: its mark went with it
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
