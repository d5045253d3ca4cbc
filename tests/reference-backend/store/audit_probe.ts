// tests/reference-backend/store/audit_probe.ts: the audit trail (reference-backend/store/audit.ts)
// in a process of its own, run with --unstable-kv by audit_test.ts (the test process has no KV).
// Usage: audit_probe.ts <store file> <maxEvents> <maxAgeMs> <events> [<first event's time, ms>].
// Records the events, ten at a time, 1 ms apart from the time given (else now), then prints what a
// reader gets back as JSON: how many keys the store holds, and the details of every event a walk
// through the pages returns.
import { AuditTrail } from "../../../reference-backend/store/audit.ts";

if (import.meta.main) {
  const [file, maxEvents, maxAgeMs, events, first] = Deno.args;
  const kv = await Deno.openKv(file);
  const trail = new AuditTrail(kv, { maxEvents: Number(maxEvents), maxAgeMs: Number(maxAgeMs) });
  await trail.load();
  const base = first === undefined ? Date.now() : Number(first);
  for (let i = 0; i < Number(events); i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, Number(events) - i) }, (_, j) =>
        trail.record({
          at: base + i + j,
          who: "admin token",
          from: "127.0.0.1",
          action: "install-token.mint",
          target: null,
          detail: `event ${i + j}`,
        })),
    );
  }
  if (Deno.env.get("AUDIT_PROBE_WAIT_MS")) {
    await new Promise((done) => setTimeout(done, Number(Deno.env.get("AUDIT_PROBE_WAIT_MS"))));
  }
  let keys = 0;
  for await (const _ of kv.list({ prefix: ["audit"] })) keys++;
  const read: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await trail.page(100, Date.now(), cursor);
    read.push(...page.events.map((event) => event.detail ?? ""));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  console.log(JSON.stringify({ keys, read }));
  kv.close();
}
