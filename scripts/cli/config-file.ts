// Loads a device config (YAML or JSON; JSON is read by the YAML parser so both get positions),
// validates it with the sketch's zod schema and reports every mistake as `file:line:col: path: message`.
import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { Document, isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Node, type YAMLMap } from "yaml";
import type { z } from "zod";

import { type SketchConfig, SketchConfigSchema } from "../firmware/sketch-config.ts";
import { CliError, ExitCode } from "./errors.ts";

export interface LoadedConfig {
  path: string;
  config: SketchConfig;
}

export interface ConfigProblem {
  line: number;
  column: number;
  path: string;
  message: string;
}

type PathKey = string | number;

/** The config file's text, or a CliError that says why it cannot be read. */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new CliError(`cannot read config ${path}: ${reason}`, ExitCode.configInvalid);
  }
}

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  const result = parseConfigText(await readConfigText(path));
  if (!result.ok) throw invalidConfigError(path, result.problems);
  return { path, config: result.config };
}

/** "<path> is not a valid device config (N problems):" with one `file:line:col: path: message` per problem. */
export function invalidConfigError(path: string, problems: readonly ConfigProblem[]): CliError {
  const name = basename(path);
  return new CliError(
    `${path} is not a valid device config (${problems.length} ${problems.length === 1 ? "problem" : "problems"}):`,
    ExitCode.configInvalid,
    problems.map((p) => `${name}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ""}${p.message}`),
  );
}

export function parseConfigText(text: string): { ok: true; config: SketchConfig } | { ok: false; problems: ConfigProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({ ...position(e.pos[0]), path: "", message: yamlErrorMessage(e.code, e.message) })),
    };
  }
  const value = doc.toJS();
  if (value === null || value === undefined) {
    return { ok: false, problems: [{ line: 1, column: 1, path: "", message: "the file is empty; it needs at least api_base_url" }] };
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, problems: [{ line: 1, column: 1, path: "", message: "the file must hold a mapping of settings (key: value)" }] };
  }
  const parsed = SketchConfigSchema.safeParse(value);
  if (parsed.success) return { ok: true, config: parsed.data };
  const problems = parsed.error.issues.flatMap((issue) => describeIssue(issue, doc, position));
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, problems };
}

function yamlErrorMessage(code: string, message: string): string {
  if (code === "DUPLICATE_KEY") return "this key appears twice";
  return `not valid YAML: ${message.split("\n")[0]}`;
}

function formatPath(path: readonly PathKey[]): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");
}

/** The deepest node that exists along `path`, and whether it is the node itself. */
function nearestNode(doc: Document, path: readonly PathKey[]): { node: Node | undefined; exact: boolean } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node)) return { node: node as Node, exact: depth === path.length };
  }
  return { node: undefined, exact: false };
}

function describeIssue(
  issue: z.core.$ZodIssue,
  doc: Document,
  position: (offset: number) => { line: number; column: number },
): ConfigProblem[] {
  const path = issue.path.filter((k): k is PathKey => typeof k === "string" || typeof k === "number");
  const at = (node: Node | undefined) => position(node?.range?.[0] ?? 0);

  if (issue.code === "unrecognized_keys") {
    const parent = doc.getIn(path, true) ?? (path.length === 0 ? doc.contents : undefined);
    return issue.keys.map((key) => {
      const pair = isMap(parent) ? (parent as YAMLMap).items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key) : undefined;
      const known = knownKeys(path);
      const suggestion = closestKey(key, known);
      return {
        ...at((pair?.key as Node | undefined) ?? (parent as Node | undefined)),
        path: formatPath([...path, key]),
        message: `unknown setting${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`,
      };
    });
  }
  const { node, exact } = nearestNode(doc, path);
  const value = exact ? (isScalar(node) ? node.value : doc.getIn(path)) : undefined;
  return [{ ...at(node), path: formatPath(path), message: issueMessage(issue, exact, value) }];
}

function issueMessage(issue: z.core.$ZodIssue, present: boolean, value: unknown): string {
  const field = issue.path.at(-1);
  switch (issue.code) {
    case "invalid_type": {
      if (!present) return "is required";
      if (issue.expected === "int") return "must be a whole number";
      if (issue.expected === "number" && typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) {
        return `must be a number (write ${value.trim()} without quotes)`;
      }
      const article = /^[aeiou]/.test(issue.expected) ? "an" : "a";
      const expected = issue.expected === "object" ? "mapping" : issue.expected === "array" ? "list" : issue.expected;
      return `must be ${article} ${expected}, not ${describeValue(value)}`;
    }
    case "too_small":
    case "too_big": {
      const bound = Number(issue.code === "too_small" ? issue.minimum : issue.maximum);
      const word = issue.code === "too_small" ? "at least" : "at most";
      if (issue.origin === "string") {
        if (issue.code === "too_small" && bound === 1) return "must not be empty";
        return `must be ${word} ${bound} characters`;
      }
      if (issue.origin === "array") return `must have ${word} ${bound} ${bound === 1 ? "entry" : "entries"}`;
      return `must be ${word} ${bound}`;
    }
    case "invalid_value":
      return `must be one of ${issue.values.map(String).join(", ")}`;
    case "invalid_format":
    case "custom":
    default: {
      // The schema's own messages often start with the field name, which the path already shows.
      const message = issue.message;
      return typeof field === "string" && message.startsWith(`${field} `) ? message.slice(field.length + 1) : message;
    }
  }
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value === "string" ? "text" : typeof value} ${JSON.stringify(value)}`;
}

/** Keys the schema allows at `path` (the top level or a Wi-Fi network entry). */
function knownKeys(path: readonly PathKey[]): string[] {
  const top = Object.keys(SketchConfigSchema.shape);
  if (path.length === 0) return top;
  if (path[0] === "wifi_networks") return ["ssid", "password"];
  return [];
}

function closestKey(key: string, known: string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = candidate.startsWith(key) || key.startsWith(candidate) ? 1 : editDistance(key, candidate);
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.key : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Sets top-level settings in a config file, keeping its comments and order (YAML) or its key
 * order (JSON). Creates the file when it does not exist.
 */
/** The config's text, or undefined when there is no file or only whitespace (a new config). */
export async function existingConfigText(path: string): Promise<string | undefined> {
  try {
    const text = await readFile(path, "utf8");
    return text.trim() === "" ? undefined : text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return undefined;
  }
}

export async function updateConfigFile(path: string, values: Record<string, unknown>, header?: string): Promise<"created" | "updated"> {
  const text = await existingConfigText(path);
  const isJson = path.endsWith(".json");
  if (text === undefined) {
    const body = isJson ? JSON.stringify(values, null, 2) + "\n" : new Document(values).toString();
    await writeFile(path, isJson || !header ? body : `${header}\n${body}`, { mode: 0o600 });
    return "created";
  }
  if (isJson) {
    const current = JSON.parse(text) as Record<string, unknown>;
    await writeFile(path, JSON.stringify({ ...current, ...values }, null, 2) + "\n");
    return "updated";
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new CliError(`cannot update ${path}: it is not valid YAML`, ExitCode.configInvalid);
  for (const [key, value] of Object.entries(values)) doc.set(key, value);
  await writeFile(path, doc.toString());
  return "updated";
}
