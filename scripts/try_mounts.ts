// scripts/try_mounts.ts: the mount namespace of `deno task try` (scripts/try.ts): Deno refuses
// every path under /proc and /sys short of --allow-all, so `unshare -rm` (no root needed)
// bind-mounts this machine's /proc, /sys and identity files into the scratch directory, the way a
// deployment mounts them at /host/*.
import { join } from "node:path";

/** The host identity files a deployment mounts at /host-<name>, here at .try/host-<name>. */
export const IDENTITY = ["hostname", "os-release", "machine-id"];

/**
 * The shell script run inside `unshare -rm`: bind-mounts the machine's procfs, sysfs and identity
 * files into the scratch directory ($1), then becomes the rest of its arguments. The mounts exist
 * only in that namespace and vanish with it.
 */
export const MOUNT_SCRIPT = `set -e
scratch=$1; shift
mount --rbind /proc "$scratch/proc"
mount --rbind /sys "$scratch/sys"
for name in ${IDENTITY.join(" ")}; do
  if [ -f "/etc/$name" ]; then : > "$scratch/host-$name"; mount --bind "/etc/$name" "$scratch/host-$name"; fi
done
exec "$@"`;

/** Why the mount namespace cannot be made over `scratch` here, or undefined when it can. */
export async function namespaceUnavailable(scratch: string): Promise<string | undefined> {
  try {
    const probe = await new Deno.Command("unshare", {
      args: ["-rm", "sh", "-c", MOUNT_SCRIPT, "sh", scratch, "true"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (probe.success) return undefined;
    const reason = new TextDecoder().decode(probe.stderr).trim().split("\n")[0];
    return `unshare -rm cannot bind-mount /proc and /sys here (${reason})`;
  } catch (error) {
    return `unshare is not available (${error instanceof Error ? error.message : error})`;
  } finally {
    for (const name of IDENTITY) await Deno.remove(join(scratch, `host-${name}`)).catch(() => {});
  }
}
