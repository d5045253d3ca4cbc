// tests/support/certs.ts: a throwaway PKI for TLS tests, made with the openssl command line in a
// temporary directory: a CA, a server certificate for localhost and 127.0.0.1 signed by it, and a
// second CA that signed nothing the server presents; and a recording backend that serves TLS with
// them. Keys are P-256: fast to generate, and rustls (Deno's TLS) accepts them.
import { join } from "node:path";
import { type Answer, startBackend, type TestBackend } from "./backend.ts";

/** One certificate: where its PEM lives and the PEM itself. */
export interface PemFile {
  readonly path: string;
  readonly pem: string;
}

/** The files of one test PKI; `await using` removes the directory. */
export interface TestCerts {
  readonly dir: string;
  /** The CA that signed the server certificate: what BACKEND_CA_FILE should name. */
  readonly ca: PemFile;
  /** The server's certificate (SAN: DNS localhost, IP 127.0.0.1) and its private key. */
  readonly serverCert: PemFile;
  readonly serverKey: PemFile;
  /** A CA unrelated to the server: trusting it must not make the server trusted. */
  readonly otherCa: PemFile;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Why TLS tests cannot run here (no openssl on PATH), or undefined when they can. */
export async function opensslMissing(): Promise<string | undefined> {
  try {
    const output = await openssl(["version"]);
    return output.success ? undefined : "openssl version failed";
  } catch (error) {
    return `openssl is not available: ${error instanceof Error ? error.message : error}`;
  }
}

// The whole configuration is ours, so the result does not depend on the system's openssl.cnf.
// webpki (under rustls) insists on CA:TRUE and keyCertSign for the issuer, and on a subjectAltName
// for the server: the common name is never looked at.
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** Generates a fresh PKI; throws with openssl's stderr if a step fails. */
export async function makeCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "sensor-agent-certs-" });
  try {
    const file = (name: string) => join(dir, name);
    await Deno.writeTextFile(file("openssl.cnf"), OPENSSL_CONFIG);
    const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    const config = ["-config", file("openssl.cnf")];
    for (const [name, cn] of [["ca", "RavenXcope Test CA"], ["other-ca", "Unrelated Test CA"]]) {
      await mustRun([
        "req",
        "-x509",
        ...newKey,
        ...config,
        "-extensions",
        "ca_ext",
        "-subj",
        `/CN=${cn}`,
        "-days",
        "2",
        "-keyout",
        file(`${name}.key`),
        "-out",
        file(`${name}.pem`),
      ]);
    }
    await mustRun([
      "req",
      "-new",
      ...newKey,
      ...config,
      "-subj",
      "/CN=localhost",
      "-keyout",
      file("server.key"),
      "-out",
      file("server.csr"),
    ]);
    await mustRun([
      "x509",
      "-req",
      "-in",
      file("server.csr"),
      "-CA",
      file("ca.pem"),
      "-CAkey",
      file("ca.key"),
      "-set_serial",
      `0x${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`,
      "-days",
      "2",
      "-extfile",
      file("openssl.cnf"),
      "-extensions",
      "server_ext",
      "-out",
      file("server.pem"),
    ]);
    const read = async (name: string): Promise<PemFile> => ({
      path: file(name),
      pem: await Deno.readTextFile(file(name)),
    });
    return {
      dir,
      ca: await read("ca.pem"),
      serverCert: await read("server.pem"),
      serverKey: await read("server.key"),
      otherCa: await read("other-ca.pem"),
      [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

function openssl(args: string[]): Promise<Deno.CommandOutput> {
  return new Deno.Command("openssl", {
    args,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
}

async function mustRun(args: string[]): Promise<void> {
  const output = await openssl(args);
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr);
    throw new Error(`openssl ${args[0]} exited ${output.code}: ${stderr}`);
  }
}

/**
 * A backend that speaks TLS with `certs`' server certificate, on `hostname` (127.0.0.1 by default):
 * the same recording server as backend.ts, behind a real handshake. A failed handshake never
 * reaches `answer`, so `requests` stays empty.
 */
export function startTlsBackend(
  certs: TestCerts,
  answer: Answer,
  hostname = "127.0.0.1",
): TestBackend {
  return startBackend(answer, {
    hostname,
    tls: { cert: certs.serverCert.pem, key: certs.serverKey.pem },
  });
}
