// lib/version.ts: what this build of the agent is, as the backend is told (docs/protocol.md): its
// version and the architecture it runs on. Kept apart from the host's facts so that `--version`
// and the User-Agent load nothing that reads the host.

/** The agent's version, sent at enrollment, in every heartbeat and in the User-Agent. */
export const AGENT_VERSION = "2.0.0";

/** `x86_64` for x86_64/amd64, `arm64` for aarch64/arm64, else the runtime's own name. */
export function architectureName(arch: string): string {
  if (arch === "x86_64" || arch === "amd64") return "x86_64";
  if (arch === "aarch64" || arch === "arm64") return "arm64";
  return arch;
}
