// lib/configfile.ts: reading the two files a configuration comes from, the env file and the
// install-token file, without trusting what their paths name (lib/smallfile.ts).
import { dirname } from "./paths.ts";
import { configError, describe } from "./errors.ts";
import { type EnvLine, parseEnvFile } from "./envfile.ts";
import type { Setting } from "./settings.ts";
import { readSmallFile, UnfitFileError } from "./smallfile.ts";

const MAX_CONFIG_BYTES = 64 * 1024;

/**
 * Reads and parses the env file, or returns undefined when it does not exist yet (a container may
 * configure everything through the environment). Anything else that is wrong with it is a 78.
 * `path` is the file's resolved location; `shown` is how the user named it.
 */
export async function readConfigFile(path: string, shown = path): Promise<EnvLine[] | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readSmallFile(path, MAX_CONFIG_BYTES);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof UnfitFileError) {
      const advice = error.reason === "too large"
        ? "Point --config at the agent's env file"
        : "Point --config at a regular file";
      throw configError(`config file ${shown} ${error.message}`, advice);
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
  return parseEnvFile(text, shown);
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
    bytes = await readSmallFile(path, MAX_CONFIG_BYTES);
  } catch (error) {
    if (error instanceof UnfitFileError) {
      throw configError(
        `${where} names ${setting.value}, which ${error.message}`,
        "Point INSTALL_TOKEN_FILE at the file that holds the install token",
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
