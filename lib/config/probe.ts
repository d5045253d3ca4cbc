// lib/config/probe.ts: the machine as the running process sees it, for the confinement rules:
// Deno's permission state and the file system, looked at without opening anything.
import type { PathProbe } from "./confinement.ts";
import { realPathOrUndefined } from "../store/mod.ts";

/** The probe of the running process: Deno's permission state and the file system. */
export const processProbe: PathProbe = {
  canRead: (path) => Deno.permissions.querySync({ name: "read", path }).state === "granted",
  exists: (path) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  realPath: realPathOrUndefined,
  stat: (path) => {
    try {
      return Deno.statSync(path); // follows links; never opens, so a FIFO cannot block it
    } catch {
      return undefined;
    }
  },
};
