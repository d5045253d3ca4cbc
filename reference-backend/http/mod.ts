// reference-backend/http/mod.ts: the backend's HTTP front, below the routes (docs/api.md, Replies;
// Limits, load shedding and Retry-After). Owns serving on 127.0.0.1 through a failing accept
// (serve.ts), the plain path a request names (target.ts), who the client is behind a trusted proxy
// (client.ts, TRUSTED_PROXIES), the JSON envelope of every reply and the reading of a JSON body
// within its caps (envelope.ts), how often a client address may fail (ratelimit.ts), and JSON
// events POSTed to a webhook, queued and retried off the request path (webhook.ts). Never chooses
// a route or touches the store: it knows requests, replies and addresses, not sensors.
export { serve, type ServeOptions, type Serving } from "./serve.ts";
export { isPlainPath, requestPath } from "./target.ts";
export { type Client, clientOf, parseTrustedProxies } from "./client.ts";
export {
  bearerToken,
  failure,
  HttpError,
  MAX_BODY_BYTES,
  MAX_BODY_PIECES,
  ok,
  readJson,
} from "./envelope.ts";
export {
  ADMIN_BACKOFF,
  type BackoffPolicy,
  DEFAULT_ENROLL_FAILURES,
  type FailureLimit,
  FailureLimiter,
  GuessBackoff,
} from "./ratelimit.ts";
export { DELIVERY, type DeliveryPolicy, Webhook } from "./webhook.ts";
