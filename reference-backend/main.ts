// reference-backend/main.ts: the reference backend's entry point (`deno task backend`). Reads the
// settings, opens the store, serves on 127.0.0.1 until SIGTERM/SIGINT, and turns every failure to
// start into one line and an exit code. Once serving, nothing but the signal ends it: the server
// survives a failing accept (http/serve.ts), and a rejection nobody handled is logged as the bug it
// is instead of killing every sensor's backend. Sensors reach it through the reverse proxy of
// deploy/backend/, named in TRUSTED_PROXIES; without one it says it runs as a development server.
import { log, setLogOptions } from "../lib/log.ts";
import { type AlertSweep, createHandler, startAlerts } from "./api/mod.ts";
import { failure, HttpError, serve, type Serving } from "./http/mod.ts";
import { loadDownloads, PROJECT_ROOT } from "./install/mod.ts";
import { openStore, type Store } from "./store/mod.ts";
import { readSettings, SettingsError } from "./settings.ts";

const EX_UNAVAILABLE = 69;
const EX_CONFIG = 78;

/** Runs the backend until a signal stops it; returns the exit code. */
export async function main(): Promise<number> {
  let settings;
  try {
    settings = readSettings((name) => Deno.env.get(name));
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    console.error(`error: ${error.message}`);
    return EX_CONFIG;
  }
  setLogOptions({ level: settings.logLevel });
  const refused = await webhookRefused(settings.alertWebhookUrl);
  if (refused !== undefined) {
    console.error(`error: ${refused}`);
    return EX_CONFIG;
  }

  let store: Store;
  try {
    store = await openStore(settings.data);
  } catch (error) {
    const advice = error instanceof Deno.errors.NotCapable
      ? "`deno task backend` may keep its store only in ./.backend-data; for another place run " +
        "reference-backend/main.ts with --allow-read and --allow-write for it (see README)"
      : "check that the directory is writable";
    console.error(
      `error: cannot open the store BACKEND_DATA=${settings.data}: ${
        (error as Error).message.split("\n")[0]
      }. ${advice}`,
    );
    return EX_CONFIG;
  }

  // install.sh and the unit, for the install command: a missing one only makes its route 404.
  const downloads = await loadDownloads(PROJECT_ROOT, (route, path, why) => {
    log.warn(`cannot read ${path}: GET ${route} answers 404 and the install command fails`, {
      why,
    });
  });

  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error(`bug: a rejection nobody handled: ${String(event.reason).split("\n")[0]}`);
  });

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
  for (const name of signals) Deno.addSignalListener(name, onSignal);
  let alerts: AlertSweep | undefined;
  try {
    let server: Serving;
    // The routes need the port the server got (PORT=0 picks one), so they come right after.
    const routes = Promise.withResolvers<ReturnType<typeof createHandler>>();
    try {
      server = serve(
        {
          port: settings.port,
          signal: stop.signal,
          onError: (error) => {
            log.error(`bug: a request failed: ${String(error).split("\n")[0]}`);
            return failure(new HttpError(500, "internal error; see the backend's log"));
          },
        },
        async (request, info) => (await routes.promise)(request, info),
      );
    } catch (error) {
      console.error(
        `error: cannot listen on 127.0.0.1:${settings.port}: ${(error as Error).message}. ` +
          "Choose another PORT or stop what holds it",
      );
      return EX_UNAVAILABLE;
    }
    const url = `http://127.0.0.1:${server.addr.port}`;
    const publicUrl = settings.publicUrl ?? url;
    routes.resolve(createHandler({
      store,
      adminToken: settings.adminToken,
      heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds,
      publicUrl,
      agentBinary: settings.agentBinary,
      downloads,
      insecureHttp: settings.insecureHttp,
      enrollFailures: settings.enrollFailures,
      trustedProxies: settings.trustedProxies,
      sensorTokenMaxAgeDays: settings.sensorTokenMaxAgeDays,
    }));
    // Said before "listening", which launchers wait for: they have the whole start by then.
    if (settings.trustedProxies.size === 0) {
      log.warn(
        "development mode: no TRUSTED_PROXIES, so clients are served directly, without the " +
          "reverse proxy's protections (TLS, header and body deadlines, connection and rate " +
          "limits); for real sensors put deploy/backend/ in front (docs/install.md)",
      );
    }
    if (settings.insecureHttp) {
      log.warn("DEV_INSECURE_HTTP=1: install commands use plain http; for development only");
    }
    alerts = await startAlerts({
      store,
      heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds,
      webhookUrl: settings.alertWebhookUrl,
    });
    log.info(`listening on ${url}`, {
      publicUrl,
      heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds,
      store: settings.data,
      agentBinary: settings.agentBinary?.url ?? "./sensor-agent",
      trustedProxies: [...settings.trustedProxies].join(",") || "none",
      enrollFailures: `${settings.enrollFailures.limit} per ${
        settings.enrollFailures.windowMs / 1000
      } s`,
      sensorTokenMaxAgeDays: settings.sensorTokenMaxAgeDays || "never",
      alertWebhook: settings.alertWebhookUrl === undefined
        ? "none"
        : new URL(settings.alertWebhookUrl).origin,
    });
    log.info(
      `operator console: ${publicUrl}/console; log in with ADMIN_TOKEN, or with a one-time code: ` +
        `curl -s -X POST -H "Authorization: Bearer $ADMIN_TOKEN" ${publicUrl}/console/api/login-codes`,
    );
    await server.finished;
    log.info("stopped by a signal");
    return 0;
  } finally {
    for (const name of signals) Deno.removeSignalListener(name, onSignal);
    await alerts?.stop();
    store.close();
  }
}

/**
 * Why the backend may not POST to ALERT_WEBHOOK_URL (its --allow-net lacks the host), or
 * undefined when it may or there is none: said at start, not at the first alert.
 */
async function webhookRefused(url: string | undefined): Promise<string | undefined> {
  if (url === undefined) return undefined;
  const { host, hostname } = new URL(url);
  const { state } = await Deno.permissions.query({ name: "net", host });
  if (state === "granted") return undefined;
  return `ALERT_WEBHOOK_URL names ${hostname}, which this backend may not connect to: add it ` +
    `to --allow-net (e.g. --allow-net=127.0.0.1,${host}) where the backend is started`;
}

if (import.meta.main) Deno.exit(await main());
