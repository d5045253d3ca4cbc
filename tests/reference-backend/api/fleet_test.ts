// The fleet as the admin API lists it and removes from it (reference-backend/api/fleet.ts,
// fleetquery.ts; docs/api.md, GET /api/sensors and DELETE /api/sensors/{id}) over real HTTP: the
// default page, search, filters, sorting, counts, paging by cursor while sensors beat, the
// refusals, and removal of revoked and silent sensors only.
import assert from "node:assert/strict";
import { launchBackend } from "../../../reference-backend/launch.ts";
import { beatFleet, enrollFleet, FLEET_OSES, FLEET_VERSIONS } from "../../support/fleet.ts";
import { enrollSeed, type RefBackend, startRefBackend } from "../../support/refbackend.ts";

/** GET /api/sensors with `query`; the reply's data, after checking it is a 200. */
async function list(backend: RefBackend, query = "") {
  const answer = await backend.call("GET", `/api/sensors${query === "" ? "" : `?${query}`}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.data;
}

Deno.test("fleet listing: 100 newest-activity first by default, with total, counts, facets and a cursor; search, filters and sorts", async () => {
  await using backend = await startRefBackend(30);
  const sensors = await enrollFleet(backend, 240, 24);
  await beatFleet(backend, [sensors[17], sensors[3]], 1);
  const page = await list(backend);
  assert.equal(page.sensors.length, 100);
  assert.equal(page.total, 240);
  assert.deepEqual(page.counts, { online: 240, late: 0, silent: 0, revoked: 0, duplicate: 0 });
  assert.equal(typeof page.nextCursor, "string");
  assert.deepEqual(page.sensors.slice(0, 2).map((s: { id: string }) => s.id), [
    sensors[3].id,
    sensors[17].id,
  ]);
  assert.equal(page.sensors[0].state, "online");
  assert.deepEqual(
    page.facets.agentVersion.map((f: { value: string }) => f.value).sort(),
    [...FLEET_VERSIONS].sort(),
  );
  assert.equal(page.facets.osInfo.length, FLEET_OSES.length);

  // q: hostname, label, IP or id, without case.
  const byHost = await list(
    backend,
    `q=${encodeURIComponent(sensors[123].hostname.toUpperCase())}`,
  );
  assert.deepEqual(byHost.sensors.map((s: { id: string }) => s.id), [sensors[123].id]);
  assert.equal(byHost.total, 1);
  assert.equal(byHost.counts.online, 240, "counts are the whole fleet's");
  assert.equal((await list(backend, `q=${sensors[5].id}`)).sensors[0].id, sensors[5].id);
  assert.equal((await list(backend, `q=${sensors[6].sensorIp}`)).sensors[0].id, sensors[6].id);
  const rack7 = sensors.filter((sensor) => sensor.label === "rack-7");
  const byLabel = await list(backend, "q=RACK-7&limit=500");
  assert.deepEqual(
    byLabel.sensors.map((s: { id: string }) => s.id).sort(),
    rack7.map((s) => s.id).sort(),
    "the install token's label is the sensor's until its first beat",
  );
});

Deno.test("fleet listing: a cursor pages through every match exactly once while sensors beat", async () => {
  await using backend = await startRefBackend(30);
  const sensors = await enrollFleet(backend, 130, 24);
  for (const [sort, order] of [["lastSeenAt", "desc"], ["hostname", "asc"], ["label", "desc"]]) {
    const seen: string[] = [];
    const moved = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `sort=${sort}&order=${order}&limit=25${
        cursor === null ? "" : `&cursor=${cursor}`
      }`;
      const page = await list(backend, query);
      seen.push(...page.sensors.map((s: { id: string }) => s.id));
      cursor = page.nextCursor;
      pages++;
      // Beats between pages move sensors to the front of the newest-first order.
      const beating = sensors.slice(pages * 3, pages * 3 + 3);
      for (const sensor of beating) moved.add(sensor.id);
      await beatFleet(backend, beating, 3);
    } while (cursor !== null);
    assert.equal(new Set(seen).size, seen.length, `${sort}: no sensor twice`);
    // By last beat a sensor that beat meanwhile moved ahead of the cursor (the next walk finds
    // it first); every other sensor is met once. By a name nothing moves: all 130.
    const missed = sensors.filter((sensor) => !seen.includes(sensor.id));
    assert.ok(missed.every((sensor) => sort === "lastSeenAt" && moved.has(sensor.id)), sort);
    assert.ok(pages >= 5, `${sort}: ${pages} pages`);
  }
  // Text sorts naturally: sensor-00009 before sensor-00010; labels rack-9 before rack-10.
  const byHost = await list(backend, "sort=hostname&limit=12");
  assert.deepEqual(
    byHost.sensors.map((s: { hostname: string }) => s.hostname),
    sensors.slice(0, 12).map((s) => s.hostname),
  );
});

Deno.test("fleet listing: state, version, OS and duplicate filters; the refusals name the parameter", async () => {
  await using backend = await startRefBackend(1);
  const sensors = await enrollFleet(backend, 30, 10);
  for (const sensor of sensors.slice(0, 3)) {
    assert.equal((await backend.call("POST", `/api/sensors/${sensor.id}/revoke`)).status, 200);
  }
  // Interval 1 s: silent after 3 s without a beat; the ones that beat stay online or late.
  await new Promise((done) => setTimeout(done, 3_300));
  await beatFleet(backend, sensors.slice(10, 20), 10);
  const all = await list(backend, "limit=500");
  assert.deepEqual(all.counts, { online: 10, late: 0, silent: 17, revoked: 3, duplicate: 0 });
  const silent = await list(backend, "state=silent");
  assert.equal(silent.total, 17);
  assert.ok(silent.sensors.every((s: { state: string; online: boolean }) => !s.online));
  assert.equal((await list(backend, "state=revoked")).total, 3);
  assert.equal((await list(backend, "duplicate=true")).total, 0);
  assert.equal((await list(backend, "duplicate=false")).total, 30);
  const version = await list(backend, `version=${FLEET_VERSIONS[2]}`);
  assert.equal(version.total, sensors.filter((s) => s.agentVersion === FLEET_VERSIONS[2]).length);
  const os = await list(backend, "os=rocky");
  assert.ok(os.total > 0 && os.sensors.every((s: { osInfo: string }) => /Rocky/.test(s.osInfo)));
  const refusals: [string, RegExp][] = [
    ["state=dead", /^state: one of online, late, silent, revoked$/],
    ["sort=token", /^sort: one of /],
    ["order=up", /^order: asc or desc$/],
    ["limit=0", /^limit: an integer 1-500$/],
    ["limit=501", /^limit: an integer 1-500$/],
    ["duplicate=yes", /^duplicate: true or false$/],
    ["stat=online", /^unknown query parameter "stat"$/],
    ["cursor=bm9wZQ", /^cursor: not one this sort and order gave/],
  ];
  for (const [query, reason] of refusals) {
    const answer = await backend.call("GET", `/api/sensors?${query}`);
    assert.equal(answer.status, 400, query);
    assert.match(answer.body.error, reason, query);
  }
  // A cursor of one sort is refused by another.
  const cursor = (await list(backend, "sort=hostname&limit=5")).nextCursor;
  assert.equal((await backend.call("GET", `/api/sensors?sort=label&cursor=${cursor}`)).status, 400);
});

Deno.test("remove: a revoked or silent sensor goes with its records; an online one is 409; an unknown one 404; admin only", async () => {
  await using backend = await startRefBackend(1);
  const revoked = await enrollSeed(backend);
  const silent = await enrollSeed(backend);
  const online = await enrollSeed(backend);
  await backend.call("POST", `/api/sensors/${revoked.sensorId}/revoke`);
  let beating = true;
  const beats = (async () => {
    while (beating) {
      assert.equal((await backend.beat(online.sensorToken)).status, 200);
      await new Promise((done) => setTimeout(done, 300));
    }
  })();
  try {
    await new Promise((done) => setTimeout(done, 3_300));
    const refused = await backend.call("DELETE", `/api/sensors/${online.sensorId}`);
    assert.equal(refused.status, 409);
    assert.match(refused.body.error, /^the sensor is (online|late): revoke it first/);
    const anonymous = await backend.call(
      "DELETE",
      `/api/sensors/${silent.sensorId}`,
      undefined,
      null,
    );
    assert.equal(anonymous.status, 401);
    for (const sensor of [revoked, silent]) {
      const removed = await backend.call("DELETE", `/api/sensors/${sensor.sensorId}`);
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.equal(removed.body.data.removed.id, sensor.sensorId);
      assert.equal((await backend.call("GET", `/api/sensors/${sensor.sensorId}`)).status, 404);
      assert.equal((await backend.call("DELETE", `/api/sensors/${sensor.sensorId}`)).status, 404);
    }
    // A removed silent sensor's token is gone with it: its next beat is 401.
    assert.equal((await backend.beat(silent.sensorToken)).status, 401);
    assert.deepEqual((await list(backend)).sensors.map((s: { id: string }) => s.id), [
      online.sensorId,
    ]);
  } finally {
    beating = false;
    await beats;
  }
  // The store holds nothing more of them: after a restart the listing, rebuilt from it, agrees.
  assert.equal((await backend.stop()).code, 0);
  for (const sensor of [revoked, silent]) {
    assert.equal(await countKeys(backend.dataDir, sensor.sensorId), 0);
  }
  await using again = await launchBackend({
    dataDir: backend.dataDir,
    adminToken: backend.adminToken,
  });
  const after = await again.admin("GET", "/api/sensors");
  assert.deepEqual(after.sensors.map((s: { id: string }) => s.id), [online.sensorId]);
  const trail = await again.admin("GET", "/api/audit");
  const removals = trail.events.filter((e: { action: string }) => e.action === "sensor.delete");
  assert.deepEqual(
    removals.map((e: { target: string }) => e.target).sort(),
    [`sensor ${revoked.sensorId}`, `sensor ${silent.sensorId}`].sort(),
  );
});

/**
 * How many keys of the store name sensor `id`, read by a `deno eval --unstable-kv` of its own
 * (this test process has no KV), while no backend has the store open.
 */
async function countKeys(dataDir: string, id: string): Promise<number> {
  const script = `const kv = await Deno.openKv(Deno.args[0]); let n = 0;
    for await (const e of kv.list({ prefix: [] })) if (e.key.includes(Deno.args[1])) n++;
    console.log(n); kv.close();`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-kv", script, `${dataDir}/kv.sqlite3`, id],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return Number(new TextDecoder().decode(output.stdout));
}
