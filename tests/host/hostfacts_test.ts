// tests/host/hostfacts_test.ts: the pure rules behind hostname, osInfo and architecture (contract
// section 3): the first non-empty line of a file, PRETTY_NAME as os-release(5) quotes it, and the
// architecture names the backend expects; then the warnings of a real run whose facts fall back.

import assert from "node:assert/strict";
import {
  firstNonEmptyLine,
  prettyName,
  readHostFacts,
  readMachineId,
} from "../../lib/host/hostfacts.ts";
import { architectureName } from "../../lib/version.ts";
import { runAgent } from "../support/agent.ts";
import { FIXTURE, FIXTURE_READS, HOST_ENV } from "../support/seed.ts";

// --- firstNonEmptyLine (hostname, machine id)

Deno.test("hostname: the first line is taken, trimmed", () => {
  assert.equal(firstNonEmptyLine("  sensor-ubuntu-host \nother\n"), "sensor-ubuntu-host");
});

Deno.test("hostname: blank and whitespace-only lines before it are skipped", () => {
  assert.equal(firstNonEmptyLine("\n   \n\t\nsensor-1\nsensor-2\n"), "sensor-1");
});

Deno.test("hostname: CRLF line endings do not end up in the value", () => {
  assert.equal(firstNonEmptyLine("\r\nsensor-1\r\nsensor-2\r\n"), "sensor-1");
});

Deno.test("hostname: an empty or blank file gives nothing, so the fallback is used", () => {
  for (const text of ["", "\n", " \n\t\n", "\r\n\r\n"]) {
    assert.equal(firstNonEmptyLine(text), undefined, JSON.stringify(text));
  }
});

Deno.test("hostname: a file without a final newline still gives its line", () => {
  assert.equal(
    firstNonEmptyLine("0123456789abcdef0123456789abcdef"),
    "0123456789abcdef0123456789abcdef",
  );
});

// --- prettyName (osInfo)

Deno.test("os-release: a double-quoted PRETTY_NAME is unquoted", () => {
  assert.equal(
    prettyName('NAME="Ubuntu"\nPRETTY_NAME="Ubuntu 24.04 LTS"\nID=ubuntu\n'),
    "Ubuntu 24.04 LTS",
  );
});

Deno.test("os-release: a single-quoted PRETTY_NAME is unquoted", () => {
  assert.equal(
    prettyName("PRETTY_NAME='Debian GNU/Linux 12 (bookworm)'\n"),
    "Debian GNU/Linux 12 (bookworm)",
  );
});

Deno.test("os-release: an unquoted PRETTY_NAME is taken as it is", () => {
  assert.equal(prettyName("ID=alpine\nPRETTY_NAME=Alpine\n"), "Alpine");
});

Deno.test("os-release: escaped quote, backslash, dollar and backtick are unescaped", () => {
  assert.equal(
    prettyName('PRETTY_NAME="My \\"Best\\" OS \\\\ \\$HOME \\`x\\`"\n'),
    'My "Best" OS \\ $HOME `x`',
  );
});

Deno.test("os-release: other backslashes stay as they are", () => {
  assert.equal(prettyName('PRETTY_NAME="a\\nb"'), "a\\nb");
});

Deno.test("os-release: whitespace around the line and around = is ignored", () => {
  assert.equal(prettyName('  PRETTY_NAME = "Fedora Linux 40"  \n'), "Fedora Linux 40");
});

Deno.test("os-release: CRLF line endings do not end up in the value", () => {
  assert.equal(prettyName('NAME="Rocky"\r\nPRETTY_NAME="Rocky Linux 9.4"\r\n'), "Rocky Linux 9.4");
});

Deno.test("os-release: a commented-out PRETTY_NAME is not used", () => {
  assert.equal(prettyName('# PRETTY_NAME="Old"\nNAME="Only a name"\n'), undefined);
});

Deno.test("os-release: a key that merely ends in PRETTY_NAME is not PRETTY_NAME", () => {
  assert.equal(prettyName('VENDOR_PRETTY_NAME="Vendor"\n'), undefined);
});

Deno.test("os-release: an empty PRETTY_NAME, quoted or not, gives nothing", () => {
  for (const text of ['PRETTY_NAME=""', "PRETTY_NAME=''", "PRETTY_NAME=", "PRETTY_NAME=  "]) {
    assert.equal(prettyName(text), undefined, text);
  }
});

Deno.test("os-release: a file without PRETTY_NAME gives nothing", () => {
  assert.equal(prettyName('NAME="Ubuntu"\nVERSION_ID="24.04"\n'), undefined);
  assert.equal(prettyName(""), undefined);
});

Deno.test("os-release: mismatched quotes are not stripped", () => {
  assert.equal(prettyName(`PRETTY_NAME="Ubuntu'`), `"Ubuntu'`);
});

// --- architectureName

Deno.test("arch: amd64 and x86_64 are x86_64", () => {
  assert.equal(architectureName("amd64"), "x86_64");
  assert.equal(architectureName("x86_64"), "x86_64");
});

Deno.test("arch: aarch64 and arm64 are arm64", () => {
  assert.equal(architectureName("aarch64"), "arm64");
  assert.equal(architectureName("arm64"), "arm64");
});

Deno.test("arch: any other name is the runtime's own", () => {
  assert.equal(architectureName("riscv64"), "riscv64");
  assert.equal(architectureName("s390x"), "s390x");
});

Deno.test("machine id: an empty host file falls back to /etc/machine-id", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/machine-id`, "");
    const expected = (await Deno.readTextFile("/etc/machine-id").catch(() => "")).trim() ||
      undefined;
    assert.equal(await readMachineId(`${dir}/machine-id`), expected);
    await Deno.writeTextFile(`${dir}/machine-id`, "\n0123abcd\n");
    assert.equal(await readMachineId(`${dir}/machine-id`), "0123abcd");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- judged at every read: each refresh of the host facts (every 60 s) reads the files again

Deno.test("hostname: a host file swapped for a link after start is not followed at the next read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const hostnameFile = `${dir}/hostname`;
    const files = { hostnameFile, osReleaseFile: `${dir}/os-release` };
    await Deno.writeTextFile(hostnameFile, "sensor-7\n");
    await Deno.chmod(hostnameFile, 0o644);
    assert.equal((await readHostFacts(files)).hostname, "sensor-7");
    // A private file elsewhere, and a public one: neither is the file the setting led to.
    await Deno.writeTextFile(`${dir}/private`, "root:$6$secret\n");
    await Deno.chmod(`${dir}/private`, 0o600);
    await Deno.writeTextFile(`${dir}/public`, "elsewhere\n");
    await Deno.chmod(`${dir}/public`, 0o644);
    for (const target of ["private", "public"]) {
      await Deno.remove(hostnameFile);
      await Deno.symlink(`${dir}/${target}`, hostnameFile);
      assert.equal((await readHostFacts(files)).hostname, Deno.hostname(), target);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hostname: a host file only its owner may read is someone's secret, never sent", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const hostnameFile = `${dir}/hostname`;
    await Deno.writeTextFile(hostnameFile, "root:$6$secret\n");
    await Deno.chmod(hostnameFile, 0o640);
    const facts = await readHostFacts({ hostnameFile, osReleaseFile: `${dir}/os-release` });
    assert.equal(facts.hostname, Deno.hostname());
    await Deno.chmod(hostnameFile, 0o644); // readable by all: a hostname file like any other
    const again = await readHostFacts({ hostnameFile, osReleaseFile: `${dir}/os-release` });
    assert.equal(again.hostname, "root:$6$secret");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- warnings: a fact that could not be read is said so, with the file and the fix

Deno.test("warnings: identity files the permission set withholds are named once each, with the fix", async () => {
  const run = await runAgent(["inventory"], {
    read: [...FIXTURE_READS, `${FIXTURE}/none.env`],
    env: { ...HOST_ENV, SENSOR_AGENT_CONFIG: `${FIXTURE}/none.env` },
  });
  assert.equal(run.code, 0, run.stderr);
  const warnings = run.stderr.split("\n").filter((line) => / WARN /.test(line));
  const about = (fact: string) => warnings.filter((line) => line.includes(` WARN ${fact}: `));
  assert.equal(about("hostname").length, 1, run.stderr);
  assert.match(
    about("hostname")[0],
    /\/host-hostname cannot be read \(not granted\); sending this runtime's hostname instead; mount the host's \/etc\/hostname read-only at \/host-hostname and grant read of \/host-hostname/,
  );
  assert.equal(about("osInfo").length, 1, run.stderr);
  assert.match(
    about("osInfo")[0],
    /\/host-os-release cannot be read \(not granted\) nor \/etc\/os-release \(not granted\); sending "linux"/,
  );
  assert.equal(JSON.parse(run.stdout).osInfo, "linux");
});

Deno.test("warnings: a missing hostname file on a host without containers is not warned about", async () => {
  const missing = `${FIXTURE}/no-such-hostname`;
  const run = await runAgent(["inventory"], {
    read: [
      ...FIXTURE_READS,
      `${FIXTURE}/none.env`,
      `${FIXTURE}/no-such-os-release`,
      missing,
      "/etc/os-release",
      "/usr/lib/os-release",
    ],
    env: {
      ...HOST_ENV,
      SENSOR_AGENT_CONFIG: `${FIXTURE}/none.env`,
      HOST_HOSTNAME_FILE: missing,
      HOST_OS_RELEASE_FILE: `${FIXTURE}/no-such-os-release`,
    },
  });
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stderr, / WARN (hostname|osInfo): /);
  assert.equal(JSON.parse(run.stdout).hostname, Deno.hostname());
});
