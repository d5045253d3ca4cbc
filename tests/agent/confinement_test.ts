// Confinement under the shipped permission set, measured on the real thing: the host's procfs and
// sysfs bind-mounted at /host/proc and /host/sys the way the unit and compose mount them, the
// agent run with `-P=agent` from deno.json, each run in a private mount namespace (support/
// shipped.ts). What a compromised agent would try is refused; what the agent reads still works;
// a path setting that leads somewhere it must not is a 78 before anything is sent.
import assert from "node:assert/strict";
import { join } from "node:path";
import { newToken } from "../support/agent.ts";
import { listing } from "../support/seed.ts";
import {
  beatAccepted,
  enrolled,
  routes,
  type SeenRequest,
  startBackend,
} from "../support/backend.ts";
import {
  AGENT_MAIN,
  CONFINEMENT_PROBE,
  runUntilBeats,
  type ShippedHost,
  shippedHost,
  shippedLayoutUnavailable,
} from "../support/shipped.ts";

const unavailable = await shippedLayoutUnavailable();
const SHIPPED = ["-P=agent"];
const EVERYTHING = ["-A"];
const CONFIG = "/etc/ravenxcope/sensor-agent.env";
const isBeat = (r: SeenRequest) => r.path === "/api/sensors/heartbeat";

interface Payload {
  hostname: string;
  osInfo: string;
  interfaces: {
    name: string;
    isLoopback: boolean;
    isUp: boolean;
    isVirtual: boolean;
    bytesRecv: number;
    bytesSent: number;
  }[];
}

/** What must not change between readings: identity and each interface's name and flags. */
function shape(payload: Payload) {
  return {
    hostname: payload.hostname,
    osInfo: payload.osInfo,
    interfaces: payload.interfaces.map(({ name, isLoopback, isUp, isVirtual }) => ({
      name,
      isLoopback,
      isUp,
      isVirtual,
    })),
  };
}

/** The env file the tests start from, in the directory the runs see as /etc/ravenxcope. */
async function writeConfig(host: ShippedHost, backendUrl: string, extra = ""): Promise<void> {
  await Deno.writeTextFile(
    join(host.etc, "sensor-agent.env"),
    `BACKEND_URL=${backendUrl}\n${extra}`,
    {
      mode: 0o600,
    },
  );
}

Deno.test({
  name: "confinement: under -P=agent every probe through /host/proc and /host/sys is refused",
  ignore: unavailable !== undefined,
  async fn() {
    await using host = await shippedHost();
    const run = await host.run(SHIPPED, CONFINEMENT_PROBE, []);
    assert.equal(run.code, 0, run.stderr);
    const results: Record<string, string> = JSON.parse(run.stdout);
    assert.ok(Object.keys(results).length >= 19);
    for (const [probe, result] of Object.entries(results)) {
      assert.equal(result, "refused", `${probe}: ${result}`);
    }
  },
});

Deno.test({
  name: "confinement: the probe can fail: with every permission the same probes get through",
  ignore: unavailable !== undefined,
  async fn() {
    await using host = await shippedHost();
    const run = await host.run(EVERYTHING, CONFINEMENT_PROBE, []);
    assert.equal(run.code, 0, run.stderr);
    const results: Record<string, string> = JSON.parse(run.stdout);
    for (
      const probe of [
        "read /host/proc/self/root/etc/shadow",
        "read /host/proc/self/environ",
        "list /host/sys/kernel",
        "read /etc/shadow",
      ]
    ) {
      assert.equal(results[probe], "allowed", probe);
    }
  },
});

Deno.test({
  name:
    "confinement: enroll, three heartbeats and inventory under -P=agent report what the host shows",
  ignore: unavailable !== undefined,
  async fn() {
    const sensorToken = newToken("sensor");
    await using backend = startBackend(
      routes(() => enrolled(sensorToken, 1), () => beatAccepted(1)),
    );
    await using host = await shippedHost();
    await writeConfig(host, backend.url);
    const inventory = async (flags: string[]) => {
      const run = await host.run(flags, AGENT_MAIN, ["inventory"]);
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout) as Payload;
    };
    // Before: the same files read with no permission check at all.
    const before = await inventory(EVERYTHING);
    const enroll = await host.run(SHIPPED, AGENT_MAIN, ["enroll"], {
      INSTALL_TOKEN: newToken("install"),
    });
    assert.equal(enroll.code, 0, enroll.stderr);
    assert.doesNotMatch(enroll.stderr, /missing|cannot be read/, "no fact degraded");
    const shipped = await inventory(SHIPPED);
    const after = await inventory(EVERYTHING);
    assert.ok(before.interfaces.length >= 1);
    assert.deepEqual(shape(shipped), shape(before));
    const enrollPayload = JSON.parse(backend.requests[0].body) as Payload;
    assert.deepEqual(shape(enrollPayload), shape(before));
    for (const [i, iface] of shipped.interfaces.entries()) {
      for (const counter of ["bytesRecv", "bytesSent"] as const) {
        assert.ok(
          before.interfaces[i][counter] <= iface[counter] &&
            iface[counter] <= after.interfaces[i][counter],
          `${iface.name} ${counter}: ${before.interfaces[i][counter]} <= ${iface[counter]} <= ${
            after.interfaces[i][counter]
          }`,
        );
      }
    }

    const { code, stderr } = await runUntilBeats(host, SHIPPED, backend);
    assert.equal(code, 0, stderr);
    const beats = backend.requests.filter(isBeat);
    assert.ok(beats.length >= 3, `${beats.length} heartbeats`);
    for (const beat of beats.slice(0, 3)) {
      assert.equal(beat.headers.get("authorization") === `Bearer ${sensorToken}`, true);
      const body = JSON.parse(beat.body) as Payload;
      assert.equal(body.hostname, before.hostname);
      assert.deepEqual(
        shape({ ...body, osInfo: before.osInfo }).interfaces,
        shape(before).interfaces,
      );
      assert.ok(body.interfaces.some((i) => i.bytesRecv > 0 || i.bytesSent > 0), "real counters");
    }
  },
});

/** A path setting and where it points, for a run under the shipped set that must end in 78. */
interface BadSetting {
  readonly name: string;
  readonly env: Record<string, string>;
  readonly prepare?: (host: ShippedHost) => Promise<void>;
  /** What the one error line must say (the variable is always named). */
  readonly says: RegExp;
}

const TOKEN_FILE = "/etc/ravenxcope/install-token";
const BAD_SETTINGS: BadSetting[] = [
  {
    name: "a host file through /host/proc/self/root",
    env: { HOST_HOSTNAME_FILE: "/host/proc/self/root/etc/shadow" },
    says:
      /HOST_HOSTNAME_FILE from the environment names \/host\/proc\/self\/root\/etc\/shadow, which this build's permission set does not allow reading/,
  },
  {
    name: "a host file through a symlink out of /etc/ravenxcope",
    env: { HOST_HOSTNAME_FILE: "/etc/ravenxcope/hostname" },
    prepare: async (host) => {
      await Deno.symlink("/etc/hostname", join(host.etc, "hostname"));
    },
    says:
      /HOST_HOSTNAME_FILE from the environment names \/etc\/ravenxcope\/hostname \(it resolves to \/etc\/hostname\): outside what this build's permission set may read/,
  },
  ...([
    "HOST_HOSTNAME_FILE",
    "HOST_OS_RELEASE_FILE",
    "HOST_MACHINE_ID_FILE",
    "BACKEND_CA_FILE",
    "INSTALL_TOKEN_FILE",
  ].map(
    (key): BadSetting => ({
      name: `${key} aimed at the config file`,
      env: { [key]: CONFIG },
      says: new RegExp(`${key} from the environment names ${CONFIG}: the config file itself`),
    }),
  )),
  ...(["HOST_HOSTNAME_FILE", "HOST_MACHINE_ID_FILE", "BACKEND_CA_FILE"].map((key): BadSetting => ({
    name: `${key} aimed at the install-token file through a link`,
    env: { [key]: "/etc/ravenxcope/innocent", INSTALL_TOKEN_FILE: TOKEN_FILE },
    prepare: async (host) => {
      await Deno.writeTextFile(join(host.etc, "install-token"), newToken("install"), {
        mode: 0o600,
      });
      await Deno.symlink(TOKEN_FILE, join(host.etc, "innocent"));
    },
    says: new RegExp(
      `${key} from the environment names /etc/ravenxcope/innocent \\(it resolves to ${TOKEN_FILE}\\): the install-token file itself`,
    ),
  }))),
];

for (const bad of BAD_SETTINGS) {
  Deno.test({
    name: `confinement: ${bad.name} is a 78 before anything is sent or written`,
    ignore: unavailable !== undefined,
    async fn() {
      await using backend = startBackend(() => enrolled(newToken("sensor")));
      await using host = await shippedHost();
      await writeConfig(host, backend.url);
      await bad.prepare?.(host);
      const filesBefore = await listing(host.etc);
      const config = await Deno.readFile(join(host.etc, "sensor-agent.env"));
      const env = bad.env.INSTALL_TOKEN_FILE
        ? bad.env
        : { INSTALL_TOKEN: newToken("install"), ...bad.env };
      for (const command of ["enroll", "run", "inventory", "status"]) {
        const run = await host.run(SHIPPED, AGENT_MAIN, [command], env);
        assert.equal(run.code, 78, `${command}: ${run.stderr}`);
        assert.equal(run.stdout, "", command);
        const lines = run.stderr.trimEnd().split("\n");
        assert.equal(lines.length, 1, run.stderr);
        assert.match(lines[0], bad.says);
      }
      assert.equal(backend.requests.length, 0, "nothing was sent");
      assert.deepEqual(await listing(host.etc), filesBefore, "no file made");
      assert.deepEqual(await Deno.readFile(join(host.etc, "sensor-agent.env")), config);
    },
  });
}

/** A config reached through a link out of the grant: the link at /etc/ravenxcope, the file outside. */
const SYMLINKED_CONFIGS = [
  {
    name: "a config file symlinked to a file outside the grant",
    configArg: CONFIG,
    /** The link's name in /etc/ravenxcope and its target, given the directory outside. */
    link: (outside: string) => ["sensor-agent.env", join(outside, "sensor-agent.env")],
  },
  {
    name: "a config under a symlinked directory outside the grant",
    configArg: "/etc/ravenxcope/conf.d/sensor-agent.env",
    link: (outside: string) => ["conf.d", outside],
  },
];

for (const symlinked of SYMLINKED_CONFIGS) {
  Deno.test({
    name: `confinement: enroll with ${symlinked.name} exits 73 and spends nothing`,
    ignore: unavailable !== undefined,
    async fn() {
      await using backend = startBackend(() => enrolled(newToken("sensor")));
      await using host = await shippedHost();
      const outside = await Deno.makeTempDir({ prefix: "sensor-agent-outside-" });
      try {
        await Deno.writeTextFile(join(outside, "sensor-agent.env"), `BACKEND_URL=${backend.url}\n`);
        const [name, target] = symlinked.link(outside);
        await Deno.symlink(target, join(host.etc, name));
        const env = { INSTALL_TOKEN: newToken("install") };
        const enroll = await host.run(SHIPPED, AGENT_MAIN, [
          "enroll",
          "--config",
          symlinked.configArg,
        ], env);
        assert.equal(enroll.code, 73, enroll.stderr);
        assert.match(
          enroll.stderr,
          /outside what this build's permission set may write; nothing was sent/,
        );
        assert.equal(enroll.stderr.trimEnd().split("\n").length, 1, enroll.stderr);
        // run cannot read a config out of its grant either: a 78, and still nothing sent.
        const run = await host.run(
          SHIPPED,
          AGENT_MAIN,
          ["run", "--config", symlinked.configArg],
          env,
        );
        assert.equal(run.code, 78, run.stderr);
        assert.equal(backend.requests.length, 0, "the install token was not spent");
        assert.deepEqual(
          await listing(outside),
          ["sensor-agent.env"],
          "no lock or temp file outside",
        );
        assert.equal(
          await Deno.readTextFile(join(outside, "sensor-agent.env")),
          `BACKEND_URL=${backend.url}\n`,
        );
      } finally {
        await Deno.remove(outside, { recursive: true });
      }
    },
  });
}
