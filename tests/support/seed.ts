// tests/support/seed.ts: the seed's "before" env file in a fresh temp dir, and the options that run
// the agent on it under the scoped test permissions (the temp dir in place of /etc/ravenxcope, the
// host fixture in place of /host/proc and /host/sys).
import { type AgentOptions, newToken, PROJECT } from "./agent.ts";
import { rootReads } from "./hosttree.ts";
import { type TempDir, tempDir } from "./tempdir.ts";

export const FIXTURE = `${PROJECT}/tests/fixtures/host`;
export const HOST_ENV = { HOST_PROC: `${FIXTURE}/proc`, HOST_SYS: `${FIXTURE}/sys` };
/** The read grants of the fixture's roots (never FIXTURE whole: see rootReads). */
export const FIXTURE_READS = rootReads({ proc: HOST_ENV.HOST_PROC, sys: HOST_ENV.HOST_SYS });

/** A config dir holding the seed's file, and how to run the agent on it. */
export interface Seed {
  readonly dir: TempDir;
  readonly config: string;
  readonly before: string;
  readonly installToken: string;
  readonly options: AgentOptions & { env: Record<string, string> };
  readonly args: string[];
}

/** Writes the seed's "before" file (SENSOR_ID, INSTALL_TOKEN, BACKEND_URL) into a new temp dir. */
export async function seed(backendUrl: string, installToken = newToken("install")): Promise<Seed> {
  const dir = await tempDir();
  const config = dir.join("sensor-agent.env");
  const before = `SENSOR_ID=sensor-1\nINSTALL_TOKEN=${installToken}\nBACKEND_URL=${backendUrl}\n`;
  await Deno.writeTextFile(config, before);
  return {
    dir,
    config,
    before,
    installToken,
    options: { read: FIXTURE_READS, write: [dir.path], env: { ...HOST_ENV } },
    args: ["--config", config],
  };
}

/** The names in `directory`, sorted: to prove that a run left nothing behind (no lock, no temp). */
export async function listing(directory: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(directory)) names.push(entry.name);
  return names.sort();
}

/** The description's example enrollment request (enrollment-flow.txt), verbatim: copy before changing. */
export const SEED_PAYLOAD = {
  installToken: "one-time-token-from-frontend",
  hostname: "sensor-ubuntu-host",
  osInfo: "Ubuntu 24.04 LTS",
  architecture: "x86_64",
  agentVersion: "2.0.0",
  sensorIp: "192.168.1.100",
  sensorPort: 22,
  sudoUser: "sensoradmin",
  interfaces: [
    {
      name: "enp130s0f0",
      isManagement: true,
      isLoopback: false,
      isVirtual: false,
      isWireless: false,
      isUp: true,
      bytesSent: 1073741824,
      bytesRecv: 2147483648,
    },
    {
      name: "enp130s0f1",
      isManagement: false,
      isLoopback: false,
      isVirtual: false,
      isWireless: false,
      isUp: true,
      bytesSent: 0,
      bytesRecv: 0,
    },
  ],
};
