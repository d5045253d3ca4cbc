// The shipped `net` grant (deno.json, `agent`), proven on the real thing: under -P=agent a probe is
// refused listening on the wildcard addresses and reaching the clouds' metadata services, while the
// backend on 127.0.0.1 stays reachable. The probe runs in a network namespace of the test's own,
// with only a loopback, on which every metadata address is a local stand-in: nothing can leave the
// machine, and with every permission the same attempts get the stand-in's answer, so the refusals
// come from the permission set, not from a missing route. /etc/hosts is bound over in a private
// mount namespace, for the names that resolve to the metadata address.
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT } from "../support/agent.ts";
import { taskCommand } from "../support/bundle.ts";
import { keptEnv } from "../support/env.ts";
import { createNamespace, type NetNamespace, netnsAvailable } from "../support/netns.ts";
import { tempDir } from "../support/tempdir.ts";

const PROBE = join(PROJECT, "tests", "support", "network_probe.ts");
const STAND_IN = join(PROJECT, "tests", "support", "metadata_stand_in.ts");
/** Where the probe may knock: every address a cloud's metadata or credential service answers on. */
const METADATA_ADDRESSES = [
  "169.254.169.254",
  "169.254.170.2",
  "100.100.100.200",
  "168.63.129.16",
  "fd00:ec2::254",
  "fd20:ce::254",
];
const HOSTS = [
  "127.0.0.1 localhost",
  "::1 localhost",
  "169.254.169.254 metadata.google.internal innocent.test",
  "",
].join("\n");
/**
 * What the set still allows: the backend, also by a name resolved through a resolver at a denied
 * address (Deno checks the address it connects to, not the resolver's: GCE keeps working), and
 * listening on loopback (Deno cannot deny listening apart from connecting; the unit's
 * SocketBindDeny=any does).
 */
const STILL_ALLOWED = [
  "fetch the backend on 127.0.0.1",
  "fetch the backend by a name the resolver at 169.254.169.254 answers",
  "listen on 127.0.0.1",
];

const availability = await netnsAvailable();

/** A namespace with IPv6 on (for [::] and the fd00:ec2:: addresses) and the stand-ins on its lo. */
async function metadataNamespace(): Promise<NetNamespace> {
  const ns = await createNamespace("meta");
  try {
    await ns.exec([
      "sysctl",
      "-q",
      "-w",
      "net.ipv6.conf.all.disable_ipv6=0",
      "net.ipv6.conf.default.disable_ipv6=0",
      "net.ipv6.conf.lo.disable_ipv6=0",
    ]);
    for (const address of METADATA_ADDRESSES) {
      const prefix = address.includes(":") ? `${address}/128` : `${address}/32`;
      await ns.ip("addr", "add", prefix, "dev", "lo", ...(address.includes(":") ? ["nodad"] : []));
    }
    return ns;
  } catch (error) {
    await ns[Symbol.asyncDispose]();
    throw error;
  }
}

/** Starts the stand-in in `ns`; returns its loopback URL and a way to stop it. */
async function startStandIn(ns: NetNamespace) {
  const child = new Deno.Command("ip", {
    args: [
      ...["netns", "exec", ns.name, Deno.execPath(), "run", "-q", "-A", "--unstable-net", STAND_IN],
      ...METADATA_ADDRESSES,
    ],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...keptEnv() },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!output.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`the stand-in exited before it was ready: ${output}`);
    output += value;
  }
  return {
    url: output.trim(),
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await lines.cancel().catch(() => {});
      await child.status;
    },
  };
}

/**
 * Runs the probe in `ns` with `flags`, /etc/hosts and /etc/resolv.conf replaced by the files in
 * `etc`; returns its verdicts.
 */
async function probe(ns: NetNamespace, etc: string, flags: string[], backend: string) {
  const bind =
    'mount --bind "$0/hosts" /etc/hosts && mount --bind "$0/resolv.conf" /etc/resolv.conf';
  const output = await new Deno.Command("ip", {
    args: [
      ...["netns", "exec", ns.name, "unshare", "-m", "--propagation", "private"],
      ...["sh", "-c", `${bind} && exec "$@"`, etc],
      ...[Deno.execPath(), "run", "-q", "--no-prompt", ...flags, PROBE, backend],
    ],
    cwd: PROJECT, // -P=agent is read from the project's deno.json
    env: { PATH: Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...keptEnv() },
    clearEnv: true,
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(output.stdout)) as Record<string, string>;
}

for (const [flags, expected] of [[["-P=agent"], "refused"], [["-A"], "allowed"]] as const) {
  Deno.test({
    name: `network grant: under ${
      flags[0]
    } listening on every address and the metadata services are ${expected}`,
    ignore: !availability.available,
    async fn() {
      await using ns = await metadataNamespace();
      await using standIn = await startStandIn(ns);
      await using dir = await tempDir();
      await Deno.writeTextFile(dir.join("hosts"), HOSTS);
      await Deno.writeTextFile(dir.join("resolv.conf"), "nameserver 169.254.169.254\n");
      const results = await probe(ns, dir.path, [...flags], standIn.url);
      assert.equal(Object.keys(results).length, 20, JSON.stringify(results));
      for (const [attempt, verdict] of Object.entries(results)) {
        const wanted = STILL_ALLOWED.includes(attempt) ? "allowed" : expected;
        assert.equal(verdict, wanted, attempt);
      }
    },
  });
}

Deno.test("network grant: the set denies the wildcard and metadata addresses, and the tasks keep it", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(PROJECT, "deno.json")));
  const net = config.permissions.agent.net;
  assert.equal(net.allow, true, "any backend: its address is known only at install time");
  for (
    const entry of [
      "0.0.0.0",
      "[::]",
      "169.254.0.0/16",
      "100.100.100.200",
      "168.63.129.16",
      "[fd00:ec2::254]",
      "[fd20:ce::254]",
      "metadata.google.internal",
    ]
  ) {
    assert.ok(net.deny.includes(entry), `${entry} is not denied`);
  }
  // The binary and `deno task start` run this very set. An explicit --deny-net on the command line
  // would replace its deny list (measured on 2.9.6), and -A would drop the set; --allow-net keeps
  // the list, so narrowing the backend at compile time stays safe.
  for (const task of ["start", "compile"]) {
    const line = await taskCommand(task);
    assert.match(line, / -P=agent /, task);
    assert.doesNotMatch(line, /--deny-net|--allow-all|\s-A\s|--allow-net/, task);
  }
  const dockerfile = await Deno.readTextFile(join(PROJECT, "deploy", "Dockerfile"));
  assert.match(dockerfile, /deno compile -q -P=agent /);
  assert.doesNotMatch(dockerfile, /--deny-net|--allow-all|\s-A\s/);
});
