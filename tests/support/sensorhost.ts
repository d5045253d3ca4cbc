// tests/support/sensorhost.ts: a sensor host for the credential tests: a machine (its machine-id
// file, and the binding derived from it) and a config directory holding an env file enrolled with
// a ProtocolBackend, run under the scoped test permissions (support/seed.ts's, plus the machine-id
// file). Two hosts with different machine ids are two machines; a file copied from one to the
// other is a cloned VM's.
import { hostBinding } from "../../lib/host/mod.ts";
import type { AgentOptions } from "./agent.ts";
import type { ProtocolBackend, SensorRecord } from "./protocol_backend.ts";
import { FIXTURE_READS, HOST_ENV } from "./seed.ts";
import { type TempDir, tempDir } from "./tempdir.ts";

/** One machine: a directory holding its config directory and its machine-id file. */
export interface SensorHost {
  readonly dir: TempDir;
  /** The env file, in `etc/`, the directory the agent may write. */
  readonly config: string;
  readonly etc: string;
  readonly machineIdFile: string;
  /** This machine's binding (docs/protocol.md); undefined for a host without a machine id. */
  readonly binding?: string;
  readonly options: AgentOptions & { env: Record<string, string> };
  readonly args: string[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** A new machine; `machineId: null` makes one without any (its file is empty, /etc's not granted). */
export async function sensorHost(
  machineId: string | null = randomMachineId(),
): Promise<SensorHost> {
  const dir = await tempDir();
  const etc = dir.join("etc");
  await Deno.mkdir(etc, { mode: 0o700 });
  const machineIdFile = dir.join("machine-id");
  await Deno.writeTextFile(machineIdFile, machineId === null ? "" : `${machineId}\n`);
  await Deno.chmod(machineIdFile, 0o644); // a host file is readable by everyone, or it is a secret
  const config = `${etc}/sensor-agent.env`;
  return {
    dir,
    config,
    etc,
    machineIdFile,
    binding: machineId === null ? undefined : hostBinding(machineId),
    options: {
      read: [...FIXTURE_READS, machineIdFile],
      write: [etc],
      env: { ...HOST_ENV, HOST_MACHINE_ID_FILE: machineIdFile },
    },
    args: ["--config", config],
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

/** 32 lowercase hex digits, as systemd writes /etc/machine-id. */
export function randomMachineId(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

/**
 * The env file of a sensor enrolled with `backend` some time ago: comments, a CRLF line, an
 * `export`, another tool's setting, SENSOR_TOKEN, and, unless `bound` is false (a file enrolled
 * before bindings existed), SENSOR_HOST_BINDING. Returns the text written (mode 0600).
 */
export async function writeEnrolledFile(
  host: SensorHost,
  backend: ProtocolBackend,
  sensor: SensorRecord,
  bound = true,
): Promise<string> {
  const text = "# RavenXcope sensor agent settings; written by install.sh, keep it 0600.\n" +
    `BACKEND_URL='${backend.url}'\n` +
    "SENSOR_ID=rack-7\r\n" +
    "export OTHER_TOOL='kept as is'\n" +
    "  # a note of the operator's, indented\n" +
    "# INSTALL_TOKEN consumed during enrollment\n" +
    `SENSOR_TOKEN=${sensor.token}\n` +
    (bound && host.binding !== undefined ? `SENSOR_HOST_BINDING=${host.binding}\n` : "") +
    "LOG_LEVEL=info";
  await Deno.writeTextFile(host.config, text, { mode: 0o600 });
  await Deno.chmod(host.config, 0o600);
  return text;
}

/** `text` with the value of the SENSOR_TOKEN line replaced: what a rotation must leave. */
export function withTokenReplaced(text: string, next: string): string {
  return text.replace(/^SENSOR_TOKEN=.*$/m, `SENSOR_TOKEN=${next}`);
}
