// reference-backend/install/downloads.ts: the two files the install command fetches from the
// backend, deploy/install.sh and deploy/sensor-agent.service (docs/install.md). They are read once,
// when the backend starts; the permission set grants read on exactly these two paths
// (reference-backend/launch.ts).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root directory: `deno task backend` runs there. */
export const PROJECT_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** Route -> the file it serves, relative to the project's root. */
export const DOWNLOADS: Readonly<Record<string, string>> = {
  "/install.sh": "deploy/install.sh",
  "/sensor-agent.service": "deploy/sensor-agent.service",
};

/** What the backend serves: route -> the file's bytes. A route without a file answers 404. */
export type Downloads = ReadonlyMap<string, Uint8Array>;

/**
 * Reads each file under `root`. One that cannot be read is left out (its route answers 404), and
 * `onMissing` is told which and why.
 */
export async function loadDownloads(
  root: string,
  onMissing: (route: string, path: string, why: string) => void,
): Promise<Downloads> {
  const loaded = new Map<string, Uint8Array>();
  for (const [route, path] of Object.entries(DOWNLOADS)) {
    try {
      loaded.set(route, await Deno.readFile(join(root, path)));
    } catch (error) {
      onMissing(route, path, (error as Error).message.split("\n")[0]);
    }
  }
  return loaded;
}
