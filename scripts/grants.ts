// scripts/grants.ts: deno.json's `agent` permission set as `deno run` flags for the demo, with a
// scratch directory in place of /etc/ravenxcope: the agent runs under the shipped set's shape.

/** The directory the shipped permission set grants for the env file. */
export const SHIPPED_CONFIG_DIR = "/etc/ravenxcope";

/** A permission set of deno.json, as Deno reads it. */
export interface PermissionSet {
  read?: string[] | boolean;
  write?: string[] | boolean;
  env?: string[] | boolean;
  sys?: string[] | boolean;
  net?: string[] | boolean | { allow?: string[] | boolean; deny?: string[] };
}

/**
 * deno.json's `agent` set as flags, with `configDir` in place of /etc/ravenxcope and the network
 * narrowed to loopback (the demo's backend is there, and nothing else may be reached).
 */
export function agentFlags(set: PermissionSet, configDir: string): string[] {
  const flag = (name: string, value: string[] | boolean | undefined) => {
    if (value === undefined || value === false) return [];
    if (value === true) return [`--allow-${name}`];
    const paths = value.map((path) => path === SHIPPED_CONFIG_DIR ? configDir : path);
    return [`--allow-${name}=${paths.join(",")}`];
  };
  return [
    ...flag("read", set.read),
    ...flag("write", set.write),
    ...flag("env", set.env),
    ...flag("sys", set.sys),
    "--allow-net=127.0.0.1",
  ];
}
