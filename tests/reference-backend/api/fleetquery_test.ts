// GET /api/sensors's query in process (reference-backend/api/fleetquery.ts), as properties: for
// any fleet and any query, following the cursors from the first page yields exactly the matching
// sensors, in the order asked, each once; the counts are the whole fleet's.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkFleetQuery,
  type FleetQuery,
  queryFleet,
  SORT_FIELDS,
} from "../../../reference-backend/api/fleetquery.ts";
import { type SensorRecord, sensorState } from "../../../reference-backend/store/mod.ts";

const NOW = 1_800_000_000_000;
const INTERVAL = 30;

/** A sensor record with the fields a query reads; ties in every field are likely. */
const sensor = fc.record({
  id: fc.uuid(),
  label: fc.option(fc.constantFrom("rack-1", "rack-2", "rack-10", "Rack-9", ""), { nil: null }),
  hostname: fc.constantFrom("a.example", "B.example", "host-9", "host-10", "host-100"),
  sensorIp: fc.constantFrom("10.0.0.1", "10.0.0.2", ""),
  osInfo: fc.constantFrom("Ubuntu 24.04 LTS", "Debian 12"),
  agentVersion: fc.constantFrom("2.0.0", "2.9.0", "2.10.0"),
  enrolledAt: fc.integer({ min: NOW - 5_000_000, max: NOW - 4_000_000 }),
  lastSeenAt: fc.constantFrom(NOW - 1_000, NOW - 60_000, NOW - 200_000, NOW - 1_000),
  revokedAt: fc.option(fc.constant(NOW - 500), { freq: 5, nil: null }),
}).map((fields) => fields as unknown as SensorRecord);

const params = fc.record({
  sort: fc.constantFrom(...SORT_FIELDS),
  order: fc.constantFrom("asc", "desc"),
  limit: fc.integer({ min: 1, max: 7 }),
  state: fc.constantFrom("", "online", "late", "silent", "revoked"),
  q: fc.constantFrom("", "host", "RACK", "10.0", "example"),
  version: fc.constantFrom("", "2.10.0"),
});

/** What one query should find: every matching sensor, by the reference rules, all of them. */
function expected(fleet: SensorRecord[], query: FleetQuery): string[] {
  const match = fleet.filter((s) =>
    (query.state === undefined ||
      sensorState(s.lastSeenAt, s.revokedAt, NOW, INTERVAL) === query.state) &&
    (query.version === undefined || s.agentVersion === query.version) &&
    (query.q === undefined ||
      [s.hostname, s.label ?? "", s.sensorIp, s.id].some((text) =>
        text.toLowerCase().includes(query.q!)
      ))
  );
  return match.map((s) => s.id).sort();
}

Deno.test("fleet query: the pages, followed by their cursors, hold every match once, in order", () => {
  fc.assert(
    fc.property(fc.uniqueArray(sensor, { selector: (s) => s.id, maxLength: 40 }), params, (
      fleet,
      p,
    ) => {
      const search = new URLSearchParams(
        Object.entries(p).filter(([, value]) => value !== "").map(([k, v]) => [k, String(v)]),
      );
      const checked = checkFleetQuery(search);
      assert.ok(checked.ok);
      let query = checked.value;
      const seen: SensorRecord[] = [];
      for (let pages = 0;; pages++) {
        const page = queryFleet(fleet, query, NOW, INTERVAL);
        assert.ok(page.sensors.length <= p.limit);
        assert.equal(
          page.counts.online + page.counts.late + page.counts.silent + page.counts.revoked,
          fleet.length,
        );
        seen.push(...page.sensors);
        if (page.nextCursor === null) break;
        search.set("cursor", page.nextCursor);
        const next = checkFleetQuery(search);
        assert.ok(next.ok);
        query = next.value;
        assert.ok(pages < 50);
      }
      assert.deepEqual(seen.map((s) => s.id).sort(), expected(fleet, checked.value));
      // In the order asked: a key never goes back; empty keys last.
      const key = (s: SensorRecord) => {
        const value = s[checked.value.sort];
        return value === null || value === "" ? undefined : value;
      };
      for (let i = 1; i < seen.length; i++) {
        const [a, b] = [key(seen[i - 1]), key(seen[i])];
        if (a === undefined) assert.equal(b, undefined, "empty keys come last");
        if (typeof a === "number" && typeof b === "number") {
          assert.ok(checked.value.order === "asc" ? a <= b : a >= b, "times in order");
        }
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("fleet query: text sorts ignore case and read digit runs as numbers", () => {
  const fleet = ["host-100", "Host-9", "host-10"].map((hostname, i) =>
    ({
      id: `id-${i}`,
      hostname,
      label: null,
      sensorIp: "",
      osInfo: "",
      agentVersion: "",
    }) as unknown as SensorRecord
  );
  const sorted = (order: string) => {
    const checked = checkFleetQuery(new URLSearchParams({ sort: "hostname", order }));
    assert.ok(checked.ok);
    return queryFleet(fleet, checked.value, NOW, INTERVAL).sensors.map((s) => s.hostname);
  };
  assert.deepEqual(sorted("asc"), ["Host-9", "host-10", "host-100"]);
  assert.deepEqual(sorted("desc"), ["host-100", "host-10", "Host-9"]);
});
