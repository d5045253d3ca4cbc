// reference-backend/api/mod.ts: the backend's API (docs/api.md, docs/protocol.md): one request
// handler for every route, and the alert sweep beside it. Owns the routing of a plain path and the
// replies to failures (handler.ts), the sensors' routes, enrollment and the heartbeat (sensors.ts,
// enrollment.ts), the admin API (admin.ts; the fleet's listing and removal in fleet.ts and
// fleetquery.ts, install tokens in tokens.ts, the audit trail in audit.ts, the admin token's check
// in guard.ts), a token's rotation and the hosts seen with it (rotation.ts, credentials.ts: the
// Sensor-Host-Binding header, the age policy, the fields the admin API shows), what each request
// body may hold (validate.ts), sensor text made safe to log (display.ts), and the sweep that reports
// sensors going silent and coming back (alerts.ts); the console is mounted under /console. Never
// reads the environment, opens the store or listens: main.ts hands it an open store and the
// settings. Never logs a token, only its fingerprint.
export { createHandler } from "./handler.ts";
export { type AlertOptions, type AlertSweep, startAlerts } from "./alerts.ts";
export type { RequestInfo, ServerOptions } from "./context.ts";
