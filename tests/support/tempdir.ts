// tests/support/tempdir.ts: a temporary directory that removes itself, even when the test fails.

/** A temp dir for one test; `await using dir = await tempDir()` removes it at the end of scope. */
export interface TempDir {
  readonly path: string;
  join(name: string): string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Creates a fresh temporary directory. */
export async function tempDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "sensor-agent-test-" });
  return {
    path,
    join: (name) => `${path}/${name}`,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}
