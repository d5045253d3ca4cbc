// tests/support/sandbox_fs.ts: the file system of install.sh's sandbox (sandbox.ts): the host's
// /usr and top-level links read-only, the test's temp dirs bound at /etc, /usr/local/bin, /state
// and the rest, and a minimal /etc that holds none of the host's users.
import { join } from "node:path";
import { PROJECT } from "./agent.ts";

/** The script under test, bound read-only into the sandbox as /installer/install.sh. */
export const INSTALL_SH = join(PROJECT, "deploy", "install.sh");

/** PATH inside the sandbox: /fakebin first, so a test can stand in for systemctl. */
const INNER_PATH = "/fakebin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * bwrap arguments for /bin, /sbin, /lib... as this host has them: on a merged /usr they are links
 * into /usr and stay links; otherwise directories bound read-only.
 */
export function topLevelLinks(): string[] {
  const args: string[] = [];
  for (const top of ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]) {
    try {
      const info = Deno.lstatSync(top);
      if (info.isSymlink) args.push("--symlink", Deno.readLinkSync(top), top);
      else if (info.isDirectory) args.push("--ro-bind", top, top);
    } catch {
      // not on this host
    }
  }
  return args;
}

/** bwrap's arguments for a sandbox made of the test's temp dir `path` (see sandbox.ts). */
export function bwrapArgs(path: string, systemd: boolean, loopback: boolean): string[] {
  const args = ["--ro-bind", "/usr", "/usr", ...topLevelLinks()];
  args.push(
    "--bind",
    join(path, "etc"),
    "/etc",
    "--bind",
    join(path, "bin"),
    "/usr/local/bin",
    "--ro-bind",
    join(path, "files"),
    "/files",
    "--bind",
    join(path, "state"),
    "/state",
    "--ro-bind",
    join(path, "fakebin"),
    "/fakebin",
    "--ro-bind",
    join(path, "installer"),
    "/installer",
    "--ro-bind",
    INSTALL_SH,
    "/installer/install.sh",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--tmpfs",
    "/tmp",
    "--tmpfs",
    "/var",
    "--tmpfs",
    "/run",
  );
  if (systemd) args.push("--dir", "/run/systemd/system");
  args.push("--unshare-pid", "--unshare-ipc", "--unshare-uts");
  if (!loopback) args.push("--unshare-net");
  args.push("--die-with-parent", "--new-session", "--chdir", "/", "--setenv", "PATH", INNER_PATH);
  return args;
}

/**
 * A minimal /etc: root alone in passwd and group (no copy of the host's users or hashes), the
 * host's login.defs for useradd's id ranges, files-only name lookups, and the loader cache and
 * alternatives links that programs under /usr may need.
 */
export async function fillEtc(etc: string): Promise<void> {
  const write = (name: string, text: string, mode: number) =>
    Deno.writeTextFile(join(etc, name), text, { mode }).then(() =>
      Deno.chmod(join(etc, name), mode)
    );
  await write("passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644);
  await write("group", "root:x:0:\n", 0o644);
  await write("shadow", "root:*:19000:0:99999:7:::\n", 0o640);
  await write("gshadow", "root:*::\n", 0o640);
  await write(
    "nsswitch.conf",
    "passwd: files\ngroup: files\nshadow: files\ngshadow: files\nhosts: files\n",
    0o644,
  );
  await write("hosts", "127.0.0.1 localhost\n", 0o644);
  for (const name of ["login.defs", "ld.so.cache"]) {
    try {
      await Deno.copyFile(join("/etc", name), join(etc, name));
    } catch {
      // useradd has built-in defaults; the loader searches its default paths
    }
  }
  try {
    await Deno.mkdir(join(etc, "alternatives"));
    for await (const entry of Deno.readDir("/etc/alternatives")) {
      if (entry.isSymlink) {
        const target = await Deno.readLink(join("/etc/alternatives", entry.name));
        await Deno.symlink(target, join(etc, "alternatives", entry.name));
      }
    }
  } catch {
    // a host without the alternatives system
  }
}
