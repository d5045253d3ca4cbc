// Every relative link in the project's Markdown resolves inside the repository: a reader of a clone
// has nothing else. A link to a file or directory must name one that exists in the repository (not
// beside it), and a `#fragment` into a Markdown file must name one of its headings. Links with a
// scheme (https:, mailto:) are not checked; text in code blocks and code spans is not a link.
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { PROJECT } from "../support/agent.ts";

/** The Markdown files of the repository: tracked and new ones (git), else every one in the tree. */
async function markdownFiles(): Promise<string[]> {
  try {
    const listed = await new Deno.Command("git", {
      args: ["ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.md"],
      cwd: PROJECT,
      stdout: "piped",
      stderr: "null",
    }).output();
    if (listed.success) {
      const names = new TextDecoder().decode(listed.stdout).split("\0").filter((n) => n !== "");
      const present = [];
      for (const name of names) {
        if (await Deno.stat(join(PROJECT, name)).then(() => true, () => false)) present.push(name);
      }
      return present.sort();
    }
  } catch {
    // no git here (an unpacked archive): walk the tree instead
  }
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(PROJECT, dir))) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory && !/^(\.git|node_modules|\.try|\.backend-data)$/.test(entry.name)) {
        await walk(path);
      } else if (entry.isFile && entry.name.endsWith(".md")) found.push(path);
    }
  };
  await walk("");
  return found.sort();
}

/** The text outside fenced code blocks and code spans, line by line (line numbers kept). */
function prose(text: string): string[] {
  let fence: string | undefined;
  return text.split("\n").map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) {
        fence = undefined;
      }
      return "";
    }
    if (marker !== undefined) {
      fence = marker;
      return "";
    }
    return line.replace(/(`+)[^`]*?\1/g, "");
  });
}

/** Each link target with its line number: inline `[text](target)`, images, and `[ref]: target`. */
function links(text: string): { line: number; target: string }[] {
  const found: { line: number; target: string }[] = [];
  prose(text).forEach((line, index) => {
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      found.push({ line: index + 1, target: match[1] });
    }
    const reference = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (reference) found.push({ line: index + 1, target: reference[1] });
  });
  return found;
}

/** The anchors GitHub makes for a Markdown file's headings (and explicit `<a id=...>`). */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of prose(text)) {
    for (const id of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) result.add(id[1]);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

/** Why `target`, linked from `file`, does not resolve inside the repository, or undefined. */
async function brokenLink(file: string, target: string): Promise<string | undefined> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto:, ...
  if (target.startsWith("/")) return "an absolute path, which means nothing in a clone";
  const [pathPart, fragment] = target.split("#", 2);
  const path = decodeURIComponent(pathPart);
  const resolved = path === "" ? file : normalize(join(dirname(file), path));
  if (resolved.startsWith("..") || relative(PROJECT, join(PROJECT, resolved)).startsWith("..")) {
    return "it leaves the repository";
  }
  const info = await Deno.stat(join(PROJECT, resolved)).catch(() => undefined);
  if (info === undefined) return `${resolved} does not exist`;
  if (fragment === undefined || fragment === "" || !resolved.endsWith(".md")) return undefined;
  const text = await Deno.readTextFile(join(PROJECT, resolved));
  return anchors(text).has(fragment) ? undefined : `${resolved} has no heading #${fragment}`;
}

const files = await markdownFiles();

Deno.test("links: the repository's Markdown files are found", () => {
  assert.ok(files.includes("README.md"), files.join(", "));
  assert.ok(files.some((f) => f.startsWith("docs/")), files.join(", "));
});

for (const file of files) {
  Deno.test(`links: every relative link in ${file} resolves inside the repository`, async () => {
    const text = await Deno.readTextFile(join(PROJECT, file));
    const broken: string[] = [];
    for (const { line, target } of links(text)) {
      const why = await brokenLink(file, target);
      if (why !== undefined) broken.push(`${file}:${line}: (${target}): ${why}`);
    }
    assert.deepEqual(broken, []);
  });
}

Deno.test("links: the checker itself finds a link that leaves the repository, or a bad anchor", async () => {
  assert.deepEqual(links("see [x](../shared/a.md) and `[y](z.md)`\n```\n[w](v.md)\n```\n"), [
    { line: 1, target: "../shared/a.md" },
  ]);
  assert.equal(await brokenLink("README.md", "../shared/a.md"), "it leaves the repository");
  assert.equal(await brokenLink("docs/api.md", "../README.md"), undefined);
  assert.match((await brokenLink("docs/api.md", "protocol.md#no-such-heading"))!, /no heading/);
  assert.equal(await brokenLink("docs/api.md", "https://example.com/x"), undefined);
  assert.deepEqual([...anchors("# A b\n## POST /api/x\n# A b\n")], ["a-b", "post-apix", "a-b-1"]);
});
