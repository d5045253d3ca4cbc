// tests/support/browser.ts: a real Chromium, headless, driven through puppeteer-core (pinned in
// deno.json and deno.lock). Debian's `chromium` package is the browser (.ci/run installs it); where
// none is installed the browser tests skip and say why. The browser runs with a throwaway profile
// and --no-sandbox (its sandbox needs user namespaces that root in a container does not get).
import puppeteer, { type Browser } from "puppeteer-core";
import { tempDir } from "./tempdir.ts";

/** Where a browser may be: CHROMIUM_PATH first, then Debian's and other usual names. */
const CANDIDATES = [
  Deno.env.get("CHROMIUM_PATH"),
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
].filter((path): path is string => path !== undefined && path !== "");

/** The first browser executable found, or undefined. */
export async function findChromium(): Promise<string | undefined> {
  for (const path of CANDIDATES) {
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** Why the browser tests cannot run here, or undefined when they can. */
export async function browserUnavailable(): Promise<string | undefined> {
  if (await findChromium() !== undefined) return undefined;
  return `no Chromium found (tried ${CANDIDATES.join(", ")}); ` +
    "install Debian's `chromium` package or set CHROMIUM_PATH";
}

/** A running headless browser; `await using` closes it and removes its profile. */
export interface RunningBrowser {
  readonly browser: Browser;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts the browser found by findChromium, headless, with a fresh profile. */
export async function launchBrowser(): Promise<RunningBrowser> {
  const executablePath = await findChromium();
  if (executablePath === undefined) throw new Error(await browserUnavailable());
  const profile = await tempDir();
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      // Over a pipe, not a WebSocket port: nothing else on the machine can drive this browser.
      pipe: true,
      userDataDir: profile.path,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  } catch (error) {
    await profile[Symbol.asyncDispose]();
    throw error;
  }
  return {
    browser,
    async [Symbol.asyncDispose]() {
      await browser.close().catch(() => {});
      await profile[Symbol.asyncDispose]();
    },
  };
}
