// What keeps README.md and docs/*.md true: their relative links resolve (file, and heading
// anchor), and the README's first section names only commands that exist. Pure functions over
// text; the caller says which files exist and what package.json's scripts are.
import { dirname, join, normalize } from "node:path";

export interface Link {
  target: string;
  line: number;
}

/** The text with fenced code blocks blanked (lines kept) and inline code spans emptied. */
function proseOnly(markdown: string): string {
  let inFence = false;
  return markdown.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      return "";
    }
    return inFence ? "" : line.replace(/(`+)[^`]*?\1/g, "code");
  }).join("\n");
}

/** Every link and image target, inline (`[t](x)`) or by reference (`[t]: x`), with its line. */
export function extractLinks(markdown: string): Link[] {
  const links: Link[] = [];
  proseOnly(markdown).split("\n").forEach((line, i) => {
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ target: m[1], line: i + 1 });
    const ref = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (ref) links.push({ target: ref[1], line: i + 1 });
  });
  return links;
}

/** GitHub's anchor for a heading's text (github-slugger): lower case, punctuation dropped, spaces → '-'. */
export function slug(headingText: string): string {
  const text = headingText
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link's text only
    .replace(/<[^>]+>/g, "")
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** The anchors a Markdown file's headings get, with GitHub's -1, -2 … for repeats. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const m = inFence ? null : /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");

export interface Tree {
  /** true if the repository-relative path is a file or folder of the checkout */
  exists(path: string): boolean;
  /** a Markdown file's text, by repository-relative path */
  read(path: string): string;
}

/** The problems of one Markdown file's relative links; `file` is repository-relative. */
export function linkProblems(file: string, markdown: string, tree: Tree): string[] {
  const problems: string[] = [];
  for (const { target, line } of extractLinks(markdown)) {
    if (isExternal(target)) continue;
    const where = `${file}:${line}: ${target}`;
    const [rawPath, anchor] = target.split("#", 2) as [string, string | undefined];
    let path: string;
    try {
      path = rawPath === "" ? file : normalize(join(dirname(file), decodeURIComponent(rawPath))).replace(/\/$/, "");
    } catch {
      problems.push(`${where}: not a valid path`);
      continue;
    }
    if (path.startsWith("..") || path.startsWith("/")) {
      problems.push(`${where}: outside the repository`);
      continue;
    }
    if (!tree.exists(path)) {
      problems.push(`${where}: no such file`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!path.endsWith(".md")) {
      problems.push(`${where}: an anchor into a file that is not Markdown`);
    } else if (!headingAnchors(tree.read(path)).has(anchor)) {
      problems.push(`${where}: ${path} has no heading #${anchor}`);
    }
  }
  return problems;
}

/** The README's first section: everything before its first `## ` heading. */
export function firstSection(readme: string): string {
  const end = readme.search(/^## /m);
  return end < 0 ? readme : readme.slice(0, end);
}

/**
 * Every command the first section shows: the lines of its ```bash blocks and the inline code
 * spans that start with a command (`npm …`, `npx …`, `bash …`, `make …`), comments dropped,
 * `a && b` as two commands.
 */
export function sectionCommands(section: string): string[] {
  const lines: string[] = [];
  for (const block of section.matchAll(/```(?:bash|sh)\n([\s\S]*?)```/g)) lines.push(...block[1].split("\n"));
  const outsideBlocks = section.replace(/```[\s\S]*?```/g, "");
  for (const span of outsideBlocks.matchAll(/`([^`]+)`/g)) {
    if (/^(npm|npx|bash|make) /.test(span[1])) lines.push(span[1]);
  }
  return lines
    .map((l) => l.replace(/(^|\s)#.*$/, "").trim())
    .flatMap((l) => l.split("&&").map((c) => c.trim()))
    .filter((c) => c !== "");
}

export interface Project {
  scripts: Record<string, string>;
  /** true if the repository-relative path is a file of the checkout */
  exists(path: string): boolean;
  /** a repository-relative file's text */
  read(path: string): string;
}

const NPM_BUILTINS = new Set(["ci", "install"]);

/** Why a command would not run as written, or undefined if every file and script it names exists. */
export function commandProblem(command: string, project: Project): string | undefined {
  const words = command.split(/\s+/);
  const [tool, first, second] = words;
  const needFile = (path: string | undefined) =>
    path && project.exists(path) ? undefined : `\`${command}\`: no file ${path ?? "(none named)"}`;
  switch (tool) {
    case "bash":
      return needFile(first);
    case "npm": {
      const script = first === "run" || first === "run-script" ? second : first;
      if (script === undefined) return `\`${command}\`: no script named`;
      if (first !== "run" && NPM_BUILTINS.has(script)) return undefined;
      return script in project.scripts ? undefined : `\`${command}\`: package.json has no script "${script}"`;
    }
    case "npx":
      if (first === "vitest" && second === "run") return needFile(words[3]);
      return project.exists(`node_modules/.bin/${first}`) ? undefined : `\`${command}\`: ${first} is not installed`;
    case "make": {
      if (first !== "-C" || !second) return `\`${command}\`: expected make -C <folder> <target>`;
      const makefile = `${second}/Makefile`;
      if (!project.exists(makefile)) return `\`${command}\`: no ${makefile}`;
      const target = words[3];
      if (target && !new RegExp(`^${target.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*:`, "m").test(project.read(makefile))) {
        return `\`${command}\`: ${makefile} has no target ${target}`;
      }
      return undefined;
    }
    default:
      return `\`${command}\`: not a command this check knows (bash, npm, npx, make)`;
  }
}

/** The folders the README's layout table names in its first column (`` `web/` ``). */
export function layoutFolders(readme: string): string[] {
  const start = readme.indexOf("| folder |");
  if (start < 0) return [];
  const rows = readme.slice(start).split("\n").slice(2);
  const end = rows.findIndex((l) => !l.startsWith("|"));
  return rows.slice(0, end < 0 ? rows.length : end)
    .flatMap((row) => [...row.split("|")[1].matchAll(/`([^`]+\/)`/g)].map((m) => m[1].replace(/\/$/, "")));
}
