// lib/config/configfile.ts: reading the two files a configuration comes from, the env file and the
// install-token file, without trusting what their paths name (store/smallfile.ts).
import { dirname } from "../paths.ts";
import { configError, describe } from "../errors.ts";
import type { Setting } from "./settings.ts";
import { readSmallFile, UnfitFileError } from "../store/mod.ts";

const MAX_CONFIG_BYTES = 64 * 1024;

/** What to do about a secret file the agent refuses, by why it refuses it. */
function unfitAdvice(error: UnfitFileError, path: string, regular: string): string {
  switch (error.reason) {
    case "hard link":
      return `Give ${path} a name of its own: copy the file (cp) instead of linking it (ln)`;
    case "writable":
      return `Let only its owner write it: chmod go-w ${path}`;
    case "moved":
    case "changed":
      return `Check what replaces ${path} while the agent starts, then start again`;
    case "too large":
    case "not a regular file":
    default:
      return regular;
  }
}

/**
 * Reads the env file's text, or returns undefined when it does not exist yet (a container may
 * configure everything through the environment). Anything else that is wrong with it is a 78.
 * `path` is the file's resolved location; `shown` is how the user named it.
 */
export async function readConfigText(path: string, shown = path): Promise<string | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readSmallFile(path, {
      role: "secret",
      maxBytes: MAX_CONFIG_BYTES,
      resolved: true,
    });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof UnfitFileError) {
      const advice = error.reason === "too large"
        ? "Point --config at the agent's env file"
        : "Point --config at a regular file";
      throw configError(`config file ${shown} ${error.message}`, unfitAdvice(error, shown, advice));
    }
    throw configError(`cannot read config file ${shown}: ${describe(error)}`, accessAdvice(path));
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw configError(
      `config file ${shown} is not UTF-8 text`,
      "Point --config at the agent's env file",
    );
  }
  if (text.includes("\0")) {
    throw configError(
      `config file ${shown} contains NUL bytes`,
      "Point --config at the agent's env file",
    );
  }
  return text;
}

/**
 * The install token in the file INSTALL_TOKEN_FILE names (already resolved to `path`), trailing
 * whitespace trimmed; undefined when the file is empty. Anything wrong with the file is a 78.
 */
export async function readInstallTokenFile(
  setting: Setting,
  path: string,
): Promise<string | undefined> {
  const where = `INSTALL_TOKEN_FILE from ${setting.source}`;
  let bytes: Uint8Array;
  try {
    bytes = await readSmallFile(path, {
      role: "secret",
      maxBytes: MAX_CONFIG_BYTES,
      resolved: true,
    });
  } catch (error) {
    if (error instanceof UnfitFileError) {
      const leads = path === setting.value ? "" : ` (it resolves to ${path})`;
      throw configError(
        `${where} names ${setting.value}${leads}, which ${error.message}`,
        unfitAdvice(
          error,
          path,
          "Point INSTALL_TOKEN_FILE at the file that holds the install token",
        ),
      );
    }
    throw configError(
      `${where}: cannot read ${setting.value}: ${describe(error)}`,
      accessAdvice(path),
    );
  }
  const token = new TextDecoder().decode(bytes).trimEnd();
  return token === "" ? undefined : token;
}

function accessAdvice(path: string): string {
  return `Check that ${path} exists and that the agent's user may read it (and its directory ${
    dirname(path)
  })`;
}
