// tests/support/env.ts: what a test keeps when it starts a process with a cleared environment.
// A child deno needs to find Deno's cache (else it downloads npm packages again, into the wrong
// HOME) and the machine's trust settings (else that download fails its TLS handshake on a machine
// whose registry is reached through a private CA). Nothing here names a default like /root: a
// variable that is not set is not passed.

import { KEPT_VARIABLES } from "../../scripts/child.ts";

/**
 * The kept variables that are set in this process, to spread into a child's `env`, and
 * DENO_NO_UPDATE_CHECK: a child deno that finds no recent upgrade check in its cache (a fresh
 * HOME) would otherwise ask dl.deno.land, through whatever proxy the test set for the agent.
 */
export function keptEnv(): Record<string, string> {
  const kept: Record<string, string> = { DENO_NO_UPDATE_CHECK: "1" };
  for (const name of KEPT_VARIABLES) {
    const value = Deno.env.get(name);
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/** Where Deno keeps its cache, the way Deno finds it: DENO_DIR, else the XDG cache, else HOME's. */
export function denoCacheDir(): string | undefined {
  const explicit = Deno.env.get("DENO_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/deno`;
  const home = Deno.env.get("HOME");
  return home ? `${home}/.cache/deno` : undefined;
}
