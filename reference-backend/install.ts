// reference-backend/install.ts: the command an operator pastes on a sensor host to enroll it.
// Until the deployment issue ships an install script, it runs the agent from a checkout of this
// repository with `deno task start`. The install token is typed (or pasted) at a silent prompt and
// travels only through a shell variable and a pipe: never on any process's argv, where every local
// user could read it in /proc, and never in the command itself, which may be shown or logged.

/** The one-liner for a sensor that should report to `backendUrl` (bash: `read -s` is not POSIX). */
export function installCommand(backendUrl: string): string {
  const config = "/etc/ravenxcope/sensor-agent.env";
  return [
    `read -rsp 'Install token: ' INSTALL_TOKEN && echo`,
    // printf is a shell builtin: its arguments are no process's argv. umask 077: the token is
    // never readable by others, even before the agent rewrites the file 0600.
    `printf 'BACKEND_URL=%s\\nINSTALL_TOKEN=%s\\n' ${shellQuote(backendUrl)} "$INSTALL_TOKEN"` +
    ` | sudo sh -c 'umask 077 && mkdir -p /etc/ravenxcope && cat >> ${config}'`,
    `unset INSTALL_TOKEN`,
    `sudo deno task start enroll`,
  ].join(" && ");
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
