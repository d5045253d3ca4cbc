// A failure before anything is sent leaves the machine as it was: every configuration error (78)
// is found before the config directory, its lock or a temporary file is made, whether the
// directory exists already or not (the lock file used to be made before the token check).
import assert from "node:assert/strict";
import { join } from "node:path";
import { newToken, runAgent } from "../support/agent.ts";
import { enrolled, startBackend } from "../support/backend.ts";
import { FIXTURE, FIXTURE_READS, HOST_ENV } from "../support/seed.ts";
import { tempDir } from "../support/tempdir.ts";

/** Every path under `dir`, with each file's bytes: what "unchanged" is measured against. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const child = join(path, entry.name);
      if (entry.isDirectory) {
        found.set(`${child}/`, "");
        await walk(child);
      } else {
        found.set(child, new TextDecoder().decode(await Deno.readFile(child)));
      }
    }
  };
  await walk(dir);
  return found;
}

/** A way to end in 78: the config file's text (undefined: no file) and the environment. */
interface Misconfiguration {
  readonly name: string;
  readonly file?: (backendUrl: string) => string;
  readonly env?: Record<string, string>;
  /** Whether the run is given an install token (true unless the case is about its absence). */
  readonly installToken?: false;
}

const CASES: Misconfiguration[] = [
  { name: "no install token", file: (url) => `BACKEND_URL=${url}\n`, installToken: false },
  {
    name: "no config file and no install token",
    env: { BACKEND_URL: "http://127.0.0.1:9" },
    installToken: false,
  },
  {
    name: "INSTALL_TOKEN and INSTALL_TOKEN_FILE both set",
    file: (url) => `BACKEND_URL=${url}\nINSTALL_TOKEN_FILE=/nonexistent\n`,
  },
  { name: "a BACKEND_URL with credentials", file: () => "BACKEND_URL=https://u:p@example.test\n" },
  { name: "no BACKEND_URL", file: () => "SENSOR_ID=x\n" },
  { name: "a malformed line", file: (url) => `BACKEND_URL=${url}\nthis is not an assignment\n` },
  { name: "a line ending in a backslash", file: (url) => `BACKEND_URL=${url}\n# C:\\\n` },
  {
    name: "a BACKEND_CA_FILE with no certificate",
    file: (url) => `BACKEND_URL=${url}\nBACKEND_CA_FILE=${FIXTURE}/README.md\n`,
  },
];

for (const misconfiguration of CASES) {
  for (const command of ["run", "enroll"]) {
    for (const dirExists of [true, false]) {
      const where = dirExists ? "an existing config directory" : "a config directory not made yet";
      Deno.test(`no trace: ${command} with ${misconfiguration.name} in ${where} exits 78 and changes nothing`, async () => {
        await using backend = startBackend(() => enrolled(newToken("sensor")));
        await using dir = await tempDir();
        const configDir = dirExists ? dir.path : join(dir.path, "etc", "ravenxcope");
        const config = join(configDir, "sensor-agent.env");
        if (misconfiguration.file && dirExists) {
          await Deno.writeTextFile(config, misconfiguration.file(backend.url));
        }
        const before = await snapshot(dir.path);
        const installToken: Record<string, string> = misconfiguration.installToken === false
          ? {}
          : { INSTALL_TOKEN: newToken("install") };
        const run = await runAgent([command, "--config", config], {
          read: [...FIXTURE_READS, `${FIXTURE}/README.md`],
          write: [dir.path],
          env: { ...HOST_ENV, ...installToken, ...misconfiguration.env },
        });
        assert.equal(run.code, 78, run.stderr);
        assert.equal(run.stderr.trimEnd().split("\n").filter((l) => / ERROR /.test(l)).length, 1);
        assert.deepEqual(await snapshot(dir.path), before);
        assert.equal(backend.requests.length, 0);
      });
    }
  }
}
