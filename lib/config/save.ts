// lib/config/save.ts: saving the sensor token (docs/configuration.md, What the agent writes): the
// env file's enrollment rewrite (envfile.ts), written through the store's atomic replace.
import { parseEnvFile, withSensorToken } from "./envfile.ts";
import { replaceFile } from "../store/mod.ts";

/**
 * Writes the sensor token into the env file atomically: every other line kept byte for byte, the
 * install token commented out, mode 0600, owner and group kept. A crash at any instant leaves the
 * old file or the new one. Throws an Error naming the path and the reason; the file is untouched
 * then. The caller holds the config lock.
 */
export async function saveSensorToken(configPath: string, sensorToken: string): Promise<void> {
  await replaceFile(
    configPath,
    (before, target) => withSensorToken(parseEnvFile(before, target), sensorToken),
  );
}
