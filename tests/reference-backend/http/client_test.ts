// Who the client is (reference-backend/http/client.ts; issue 20): X-Forwarded-For is believed only
// from a TRUSTED_PROXIES address, and then each named client is limited on its own. A real backend
// on loopback with clients on several loopback addresses; the parsing in process at the end.
import assert from "node:assert/strict";
import { clientOf, parseTrustedProxies } from "../../../reference-backend/http/mod.ts";
import { seedPayload, startRefBackend } from "../../support/refbackend.ts";

Deno.test("client address: X-Forwarded-For counts only from a TRUSTED_PROXIES address, and then per named client", async () => {
  await using backend = await startRefBackend(30, undefined, {
    env: { TRUSTED_PROXIES: "127.0.0.2", ENROLL_FAILURE_LIMIT: "2" },
  });
  assert.doesNotMatch(backend.output(), /development mode/);
  const guess = async (from: string, forwardedFor?: string) => {
    using client = Deno.createHttpClient({ localAddress: from });
    const response = await fetch(`${backend.url}/api/sensors/enroll`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        ...(forwardedFor === undefined ? {} : { "X-Forwarded-For": forwardedFor }),
      },
      body: JSON.stringify(seedPayload(`guess-${crypto.randomUUID()}`)),
      client,
    });
    await response.body?.cancel();
    return response.status;
  };
  // Not a trusted proxy: whatever it claims, it is 127.0.0.1 and is limited as one client.
  const direct = [];
  for (let i = 0; i < 3; i++) direct.push(await guess("127.0.0.1", `10.9.9.${i}`));
  assert.deepEqual(direct, [401, 401, 429]);
  // The trusted proxy: the last entry names the client, each limited on its own.
  const viaProxy = [
    await guess("127.0.0.2", "203.0.113.7, 10.0.0.1"),
    await guess("127.0.0.2", "10.0.0.1"),
    await guess("127.0.0.2", "10.0.0.1"),
    await guess("127.0.0.2", "10.0.0.2"),
  ];
  assert.deepEqual(viaProxy, [401, 401, 429, 401]);
  assert.match(backend.output(), /refused status=429 .*client=10\.0\.0\.1/);
  assert.doesNotMatch(backend.output(), /client=203\.0\.113\.7/);
  // A trusted proxy that names no client: its own address counts, and that is said once.
  await guess("127.0.0.2");
  await guess("127.0.0.2", "not an address");
  assert.equal(backend.output().match(/carried no valid X-Forwarded-For/g)?.length, 1);
});

Deno.test("client address: TRUSTED_PROXIES is IP addresses, in one spelling each", () => {
  assert.deepEqual(parseTrustedProxies("127.0.0.1, ::1  10.0.0.2"), {
    addresses: new Set(["127.0.0.1", "::1", "10.0.0.2"]),
  });
  assert.deepEqual(parseTrustedProxies("0:0::1"), { addresses: new Set(["::1"]) });
  assert.deepEqual(parseTrustedProxies("proxy.example"), { bad: "proxy.example" });
  assert.deepEqual(parseTrustedProxies("10.0.0.0/8"), { bad: "10.0.0.0/8" });
  const request = (forwarded: string) =>
    new Request("http://x/", { headers: { "X-Forwarded-For": forwarded } });
  const trusted = new Set(["127.0.0.1"]);
  assert.deepEqual(clientOf(request("1.1.1.1"), "127.0.0.2", trusted), {
    address: "127.0.0.2",
    unnamed: false,
  });
  assert.deepEqual(clientOf(request("1.1.1.1, 0:0::5"), "127.0.0.1", trusted), {
    address: "::5",
    unnamed: false,
  });
  assert.deepEqual(clientOf(request("nonsense"), "127.0.0.1", trusted), {
    address: "127.0.0.1",
    unnamed: true,
  });
});
