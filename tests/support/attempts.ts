// tests/support/attempts.ts: the shared end of the escape probes (escape_probe.ts,
// confinement_probe.ts): each attempt is tried once and reported as the permission set judged it.

/**
 * Runs every attempt and says for each "allowed", "refused" (Deno's NotCapable: the permission set
 * said no) or "failed otherwise: <error>" (the set allowed it and the system failed it).
 */
export function tryEach(attempts: Record<string, () => unknown>): Record<string, string> {
  const results: Record<string, string> = {};
  for (const [name, attempt] of Object.entries(attempts)) {
    try {
      attempt();
      results[name] = "allowed";
    } catch (error) {
      results[name] = error instanceof Deno.errors.NotCapable
        ? "refused"
        : `failed otherwise: ${(error as Error).name}`;
    }
  }
  return results;
}
