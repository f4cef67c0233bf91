// README.md and docs/*.md stay true: every relative link in them (and in the folders' READMEs)
// reaches a file of the checkout (and its heading, for `#anchor`), the README's first section
// names only commands whose scripts and files exist, and its layout table only folders that exist. "The checkout" is what git tracks
// or would track (not ignored), so a link to a file only this machine has fails too.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  commandProblem, extractLinks, firstSection, headingAnchors, layoutFolders, linkProblems,
  type Project, sectionCommands, slug, type Tree,
} from "../../scripts/docs/check.ts";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";

function checkoutTree(): Tree {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: PROJECT_ROOT })
    .toString().split("\0").filter(Boolean);
  const paths = new Set(files);
  for (const f of files) {
    for (let i = f.indexOf("/"); i > 0; i = f.indexOf("/", i + 1)) paths.add(f.slice(0, i));
  }
  return {
    exists: (p) => paths.has(p),
    read: (p) => readFileSync(join(PROJECT_ROOT, p), "utf8"),
  };
}

const tree = checkoutTree();
const readme = tree.read("README.md");
// README.md, docs/*.md and every other Markdown file of the checkout (the folders' READMEs).
const markdownFiles = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z", "*.md"], { cwd: PROJECT_ROOT })
  .toString().split("\0").filter(Boolean);
const project: Project = {
  scripts: JSON.parse(tree.read("package.json")).scripts,
  exists: tree.exists,
  read: tree.read,
};

describe("the checks themselves", () => {
  const fixture: Tree = {
    exists: (p) => ["docs", "docs/a.md", "web", "web/build.ts"].includes(p),
    read: (p) => (p === "docs/a.md" ? "# A title\n\n## Ports, and `npm start`\n\n## Ports, and `npm start`\n" : ""),
  };

  it("finds inline and reference links, not those inside code", () => {
    const md = "See [a](docs/a.md) and ![img](x.png \"t\").\n\n[ref]: web/build.ts\n\n`[no](code.md)`\n```\n[no](fence.md)\n```\n";
    expect(extractLinks(md).map((l) => l.target)).toEqual(["docs/a.md", "x.png", "web/build.ts"]);
  });

  it("makes GitHub's anchors, numbering repeats", () => {
    expect(slug("What is proven here, and what differs from a hosted project"))
      .toBe("what-is-proven-here-and-what-differs-from-a-hosted-project");
    expect(slug("Host adapters and `sim-camera`")).toBe("host-adapters-and-sim-camera");
    expect([...headingAnchors(fixture.read("docs/a.md"))]).toEqual(["a-title", "ports-and-npm-start", "ports-and-npm-start-1"]);
  });

  it("reports a missing file, a missing anchor, a link out of the repository; passes good ones", () => {
    const md = [
      "# Index",
      "[ok](a.md#ports-and-npm-start-1) [ok](../web/build.ts) [ok](#index) [ok](../web/) [ok](https://example.com/x.md)",
      "[gone](b.md)",
      "[bad anchor](a.md#nope) [bad anchor here](#nope)",
      "[out](../../etc/passwd)",
      "[anchor in code](../web/build.ts#L1)",
    ].join("\n");
    const withIndex: Tree = {
      exists: (p) => p === "docs/index.md" || fixture.exists(p),
      read: (p) => (p === "docs/index.md" ? md : fixture.read(p)),
    };
    expect(linkProblems("docs/index.md", md, withIndex)).toEqual([
      "docs/index.md:3: b.md: no such file",
      "docs/index.md:4: a.md#nope: docs/a.md has no heading #nope",
      "docs/index.md:4: #nope: docs/index.md has no heading #nope",
      "docs/index.md:5: ../../etc/passwd: outside the repository",
      "docs/index.md:6: ../web/build.ts#L1: an anchor into a file that is not Markdown",
    ]);
  });

  it("reports a command whose script, file or make target does not exist", () => {
    const p: Project = {
      scripts: { start: "x", test: "y", bench: "z" },
      exists: (f) => ["scripts/setup.sh", "tests/a.test.ts", "fw/Makefile", "node_modules/.bin/tsx"].includes(f),
      read: () => "test: build\nsim: $(BUILD)/sim\n",
    };
    const section = "# x\n```bash\nbash scripts/setup.sh && npm start   # run\nbash scripts/setup.sh && npm test\n```\n" +
      "Then `npm run bench`, `npm run nope`, `npx vitest run tests/a.test.ts`, `npx vitest run tests/b.test.ts`, " +
      "`make -C fw test`, `make -C fw flash`, `bash scripts/gone.sh`, `npm ci`, `npx tsx x.ts`, `curl x`.\n";
    const commands = sectionCommands(section);
    expect(commands).toEqual([
      "bash scripts/setup.sh", "npm start", "bash scripts/setup.sh", "npm test", "npm run bench", "npm run nope",
      "npx vitest run tests/a.test.ts", "npx vitest run tests/b.test.ts", "make -C fw test", "make -C fw flash",
      "bash scripts/gone.sh", "npm ci", "npx tsx x.ts",
    ]);
    expect(commands.map((c) => commandProblem(c, p)).filter(Boolean)).toEqual([
      '`npm run nope`: package.json has no script "nope"',
      "`npx vitest run tests/b.test.ts`: no file tests/b.test.ts",
      "`make -C fw flash`: fw/Makefile has no target flash",
      "`bash scripts/gone.sh`: no file scripts/gone.sh",
    ]);
    expect(commandProblem("curl x", p)).toMatch(/not a command this check knows/);
  });
});

describe("README.md and docs/", () => {
  it("covers the README, every docs/*.md and the folders' READMEs", () => {
    expect(markdownFiles).toEqual(expect.arrayContaining(["README.md", "docs/api.md", "docs/deploy.md", "firmware-config/host/README.md"]));
  });

  it("opens every Markdown file with its title (none is empty)", () => {
    expect(markdownFiles.filter((f) => !/^# \S/.test(tree.read(f)))).toEqual([]);
  });

  it("has no relative link to a missing file or heading", () => {
    const problems = markdownFiles.flatMap((f) => linkProblems(f, tree.read(f), tree));
    expect(problems).toEqual([]);
    const checked = markdownFiles.flatMap((f) => extractLinks(tree.read(f))).filter((l) => !/^[a-z]+:/.test(l.target));
    expect(checked.length).toBeGreaterThan(30);
  });

  it("starts with the two commands, and every command of its first section exists", () => {
    const commands = sectionCommands(firstSection(readme));
    expect(commands.slice(0, 4)).toEqual(["bash scripts/setup.sh", "npm start", "bash scripts/setup.sh", "npm test"]);
    expect(commands.map((c) => commandProblem(c, project)).filter(Boolean)).toEqual([]);
  });

  it("names only folders that exist in its layout table", () => {
    const folders = layoutFolders(readme);
    expect(folders).toEqual(expect.arrayContaining(["supabase", "functions/devices", "firmware-config/core", "web", "tests"]));
    expect(folders.filter((f) => !tree.exists(f))).toEqual([]);
  });

  it("keeps the route table between the markers the route registry's check reads", () => {
    const api = tree.read("docs/api.md");
    const table = /<!-- routes:begin -->\n([\s\S]*?)<!-- routes:end -->/.exec(api)?.[1] ?? "";
    const rows = table.split("\n").filter((l) => l.startsWith("|"));
    expect(rows[1]).toMatch(/^\|( *:?-+:? *\|)+$/); // a Markdown table: header, separator, a row per route
    expect(rows.length - 2).toBeGreaterThanOrEqual(12);
  });
});
