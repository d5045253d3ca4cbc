// deploy/backend/: the reference backend and its reverse proxy as a systemd pair and as a compose
// file. The three ways the backend runs (`deno task backend`, the unit, compose) grant it the same
// permission set; the proxy's paths, port and certificate are where its unit and compose put
// them; nginx accepts the file (`nginx -t`); both units pass `systemd-analyze verify` and score
// 2.0 or lower in `systemd-analyze security`. Running the pair under real load is
// reverse_proxy_test.ts. Where nginx or systemd-analyze is missing, those tests say they skipped.
import assert from "node:assert/strict";
import { join } from "node:path";
import { backendPermissionFlags } from "../../reference-backend/launch.ts";
import { PROJECT } from "../support/agent.ts";
import { freePort, NGINX, nginxMissing, PROXY_CONFIG, proxyConfigFor } from "../support/nginx.ts";
import { tempDir } from "../support/tempdir.ts";

const DIR = join(PROJECT, "deploy", "backend");
const BACKEND_UNIT = join(DIR, "ravenxcope-backend.service");
const PROXY_UNIT = join(DIR, "ravenxcope-proxy.service");
const COMPOSE = join(DIR, "compose.yaml");
const STORE = "/var/lib/ravenxcope-backend";
const MAX_EXPOSURE = 2.0;

/** The unit's `Key=value` lines of [Service], continuations joined, in order. */
async function serviceLines(path: string): Promise<[string, string][]> {
  const text = (await Deno.readTextFile(path)).replace(/\\\n\s*/g, " ");
  const service = text.slice(text.indexOf("[Service]"), text.indexOf("[Install]"));
  return service.split("\n")
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]);
}

function valuesOf(lines: [string, string][], key: string): string[] {
  return lines.filter(([k]) => k === key).map(([, v]) => v);
}

Deno.test("backend deploy: the unit and compose grant the backend exactly `deno task backend`'s permission set, with the store in /var/lib", async () => {
  const expected = backendPermissionFlags(STORE);
  const exec = valuesOf(await serviceLines(BACKEND_UNIT), "ExecStart")[0].split(/\s+/);
  assert.deepEqual(exec.slice(0, 4), ["/usr/local/bin/deno", "run", "-q", "--unstable-kv"]);
  assert.deepEqual(exec.slice(4, -1), expected);
  assert.equal(exec.at(-1), "reference-backend/main.ts");
  const compose = await Deno.readTextFile(COMPOSE);
  const command = [...compose.matchAll(/^ {6}- (--allow-[a-z]+=\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(command, expected);
  assert.match(compose, /reference-backend\/main\.ts$/m);
  // Both name the proxy as the one trusted address, and the store where the grant is.
  const env = valuesOf(await serviceLines(BACKEND_UNIT), "Environment").join(" ");
  assert.match(env, /\bTRUSTED_PROXIES=127\.0\.0\.1\b/);
  assert.match(env, new RegExp(`\\bBACKEND_DATA=${STORE}\\b`));
  assert.match(compose, /TRUSTED_PROXIES: 127\.0\.0\.1$/m);
  assert.match(compose, new RegExp(`BACKEND_DATA: ${STORE}$`, "m"));
});

Deno.test("backend deploy: nginx.conf's upstream, certificate and directories are where the units and compose put them", async () => {
  const conf = await Deno.readTextFile(PROXY_CONFIG);
  const backend = await serviceLines(BACKEND_UNIT);
  const proxy = await serviceLines(PROXY_UNIT);
  assert.match(valuesOf(backend, "Environment").join(" "), /\bPORT=5009\b/);
  assert.match(conf, /^\s*server 127\.0\.0\.1:5009 /m);
  // LoadCredential=<name>:<file> appears under /run/credentials/<unit>/<name>.
  const credentials = valuesOf(proxy, "LoadCredential").map((value) => value.split(":")[0]);
  assert.deepEqual(credentials, ["fullchain.pem", "privkey.pem"]);
  for (const name of credentials) {
    assert.ok(conf.includes(`/run/credentials/ravenxcope-proxy.service/${name};`), name);
  }
  for (
    const [key, root] of [["RuntimeDirectory", "/run"], ["CacheDirectory", "/var/cache"], [
      "LogsDirectory",
      "/var/log",
    ]]
  ) {
    const [name] = valuesOf(proxy, key);
    assert.ok(conf.includes(`${root}/${name}/`), `${key}=${name} is not where nginx.conf writes`);
  }
  const compose = await Deno.readTextFile(COMPOSE);
  assert.match(compose, /- \.\/tls:\/run\/credentials\/ravenxcope-proxy\.service:ro$/m);
  for (
    const path of [
      "/run/ravenxcope-proxy",
      "/var/cache/ravenxcope-proxy",
      "/var/log/ravenxcope-proxy",
    ]
  ) {
    assert.ok(compose.includes(`- ${path}:`), `compose mounts no ${path}`);
  }
  const exec = valuesOf(proxy, "ExecStart")[0];
  assert.ok(exec.includes("-c /etc/ravenxcope/backend/nginx.conf"));
  assert.match(compose, /\.\/nginx\.conf:\/etc\/ravenxcope\/backend\/nginx\.conf:ro/);
});

Deno.test("backend deploy: nginx -t accepts the shipped nginx.conf", async () => {
  const missing = await nginxMissing();
  if (missing !== undefined) {
    console.log(`skipped: ${missing}`);
    return;
  }
  await using dir = await tempDir();
  for (const sub of ["run", "cache", "log", "tls"]) await Deno.mkdir(dir.join(sub));
  const openssl = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-days",
      "1",
      "-keyout",
      dir.join("tls/privkey.pem"),
      "-out",
      dir.join("tls/fullchain.pem"),
    ],
    stderr: "null",
  }).output();
  assert.ok(openssl.success, "openssl made no certificate");
  const conf = dir.join("nginx.conf");
  await Deno.writeTextFile(
    conf,
    proxyConfigFor(await Deno.readTextFile(PROXY_CONFIG), {
      dir: dir.path,
      port: freePort(),
      backendPort: 5009,
    }),
  );
  const output = await new Deno.Command(NGINX, {
    args: ["-t", "-e", "stderr", "-c", conf],
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
  assert.match(text, /test is successful/);
});

/** Why systemd-analyze cannot check units here, or undefined when it can. */
async function analyzeMissing(): Promise<string | undefined> {
  try {
    const output = await new Deno.Command("systemd-analyze", { args: ["--version"] }).output();
    const version = Number(/^systemd (\d+)/.exec(new TextDecoder().decode(output.stdout))?.[1]);
    return version >= 250 ? undefined : "systemd-analyze is older than 250 (no --offline)";
  } catch {
    return "systemd-analyze is not installed";
  }
}

for (const unit of [BACKEND_UNIT, PROXY_UNIT]) {
  const name = unit.split("/").at(-1)!;
  Deno.test(`backend deploy: ${name} passes systemd-analyze verify and scores ${MAX_EXPOSURE} or lower`, async () => {
    const missing = await analyzeMissing() ??
      (name === PROXY_UNIT.split("/").at(-1) ? await nginxMissing() : undefined);
    if (missing !== undefined) {
      console.log(`skipped: ${missing}`);
      return;
    }
    const env = { SYSTEMD_COLORS: "0", NO_COLOR: "1", SYSTEMD_LOG_COLOR: "0" };
    // verify wants ExecStart's binary to exist: Deno is installed at /usr/local/bin by the
    // operator; the copy names the one running this test.
    await using dir = await tempDir();
    const copy = dir.join(name);
    await Deno.writeTextFile(
      copy,
      (await Deno.readTextFile(unit)).replaceAll("/usr/local/bin/deno ", `${Deno.execPath()} `),
    );
    const verify = await new Deno.Command("systemd-analyze", {
      args: ["--no-pager", "verify", "--man=no", copy],
      env,
    }).output();
    const said = new TextDecoder().decode(verify.stdout) + new TextDecoder().decode(verify.stderr);
    assert.equal(said, "", "systemd-analyze verify printed something");
    assert.equal(verify.code, 0);
    const security = await new Deno.Command("systemd-analyze", {
      args: ["--no-pager", "security", "--offline=yes", unit],
      env,
    }).output();
    const score = Number(
      /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(
        new TextDecoder().decode(security.stdout),
      )?.[1],
    );
    console.log(`${name}: systemd-analyze security exposure ${score}`);
    assert.ok(score <= MAX_EXPOSURE, `exposure ${score}`);
  });
}

Deno.test("backend deploy: install.md's private-CA commands make a certificate the agent's TLS trusts through BACKEND_CA_FILE's CA", async () => {
  const doc = await Deno.readTextFile(join(PROJECT, "docs", "install.md"));
  const start = doc.indexOf("```sh\nHOST=backend.example\n");
  assert.ok(start >= 0, "install.md has no private-CA block starting with HOST=backend.example");
  const block = doc.slice(start + "```sh\n".length, doc.indexOf("```", start + 5));
  await using dir = await tempDir();
  const made = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", block.replace("HOST=backend.example", "HOST=localhost")],
    cwd: dir.path,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
  assert.equal((await Deno.stat(dir.join("ca.key"))).mode! & 0o777, 0o600, "umask 077");
  const read = (name: string) => Deno.readTextFile(dir.join(name));
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await read("fullchain.pem"),
    key: await read("privkey.pem"),
    onListen: () => {},
  }, () => new Response("trusted"));
  try {
    // The agent's TLS: the runtime's fetch with the CA added (lib/backend/http.ts, clientTrusting).
    using client = Deno.createHttpClient({ caCerts: [await read("ca.pem")] });
    const response = await fetch(`https://localhost:${server.addr.port}/`, { client });
    assert.equal(await response.text(), "trusted");
    // And without it, refused: the certificate is only as good as the CA handed to sensors.
    await assert.rejects(fetch(`https://localhost:${server.addr.port}/`));
  } finally {
    await server.shutdown();
  }
});
