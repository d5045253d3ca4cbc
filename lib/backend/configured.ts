// lib/backend/configured.ts: the backend as the configuration describes it: its URL, the request
// timeout, and an HTTP client that trusts BACKEND_CA_FILE in addition to the runtime's roots.
import type { Config } from "../config/mod.ts";
import { AgentError, describe, ExitCode } from "../errors.ts";
import { type Backend, clientTrusting } from "./http.ts";
import { readSmallFile } from "../store/mod.ts";

/** A CA bundle larger than this is not a bundle (the whole Mozilla set is about 220 KB). */
const MAX_CA_FILE_BYTES = 1024 * 1024;

/**
 * The backend as configured: BACKEND_URL (required), the timeout, and an HTTP client trusting
 * BACKEND_CA_FILE when one is set. An http:// URL is allowed, with a warning.
 */
export async function backendFor(config: Config): Promise<Backend> {
  if (config.backendUrl === undefined) {
    throw new AgentError(
      ExitCode.config,
      `BACKEND_URL is not set in the environment or in ${config.configPath}`,
      "Set BACKEND_URL to the backend's base URL, e.g. https://backend.example:5009",
    );
  }
  if (config.backendCaFile === undefined) {
    return { url: config.backendUrl, timeoutMs: config.timeoutMs };
  }
  let pem: string;
  try {
    // A secret's rules: a CA bundle anyone may rewrite, or another file's second name, decides
    // whom the agent trusts with its tokens.
    const rules = { role: "secret", maxBytes: MAX_CA_FILE_BYTES, resolved: true } as const;
    pem = new TextDecoder().decode(await readSmallFile(config.backendCaFile, rules));
  } catch (error) {
    throw new AgentError(
      ExitCode.config,
      `BACKEND_CA_FILE ${config.backendCaFile} cannot be read: ${describe(error)}`,
      "Point BACKEND_CA_FILE at a readable PEM bundle",
    );
  }
  try {
    // Deno ignores text without a PEM block instead of refusing it: check, or the file's problem
    // would later look like the backend's.
    if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem)) {
      throw new Error("it holds no PEM certificate block");
    }
    return {
      url: config.backendUrl,
      timeoutMs: config.timeoutMs,
      client: clientTrusting(pem),
      caFile: config.backendCaFile,
    };
  } catch (error) {
    throw new AgentError(
      ExitCode.config,
      `BACKEND_CA_FILE ${config.backendCaFile} is not a usable PEM bundle: ${describe(error)}`,
      "Point BACKEND_CA_FILE at the PEM certificate(s) of the backend's CA",
    );
  }
}
