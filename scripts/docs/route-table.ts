// The route table of docs/api.md, rendered from the registry: `npm run docs:routes` writes
// it between the markers, tests/docs/route-table.test.ts fails when the two disagree.
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { envDefaults, LIMIT_ENV } from "../../functions/_shared/config.ts";
import { MAX_BATCH_ITEMS } from "../../functions/devices/batch.ts";
import { ROUTES } from "../../functions/devices/registry.ts";
import type { Route } from "../../functions/devices/route.ts";

export const BEGIN = "<!-- routes:begin -->";
export const END = "<!-- routes:end -->";

const AUTH = { user: "user JWT", device: "`X-Device-Token`", "pairing-code": "pairing code" } as const;

/** `{ name, seq?, … }` from an object schema: its fields, `?` where one may be left out. */
function fieldsOf(schema: z.ZodType): string {
  if (!(schema instanceof z.ZodObject)) return "JSON";
  const fields = Object.entries(schema.shape as Record<string, z.ZodType>)
    .map(([name, field]) => field.safeParse(undefined).success ? `${name}?` : name);
  return `\`{ ${fields.join(", ")} }\``;
}

function request(route: Route): string {
  if (route.body === "none") return route.method === "GET" ? "" : "`{}` or empty";
  if (typeof route.body === "object" && "batchOf" in route.body) {
    return `\`{ items: [...] }\` (1–${MAX_BATCH_ITEMS}), each ${fieldsOf(route.body.batchOf)}`;
  }
  return fieldsOf(route.body);
}

export function renderRouteTable(routes: readonly Route[] = ROUTES): string {
  const defaults = envDefaults();
  const limits = (r: Route) => r.limits.flatMap((l) => LIMIT_ENV[l].map((v) => `\`${v}\` ${defaults[v]}`)).join(", ");
  const rows = routes.map((r) =>
    `| ${r.method} \`${r.path}\` | ${r.summary} | ${AUTH[r.auth]} | ${request(r)} | ${r.answers} | ${limits(r)} |`
  );
  return ["| route | what | auth | request | answer | limits (default) |", "| --- | --- | --- | --- | --- | --- |", ...rows]
    .join("\n");
}

/** The document with its route table block replaced by the current one. */
export function withRouteTable(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`the route table markers are missing (${BEGIN} … ${END})`);
  return `${doc.slice(0, a + BEGIN.length)}\n${renderRouteTable()}\n${doc.slice(b)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = new URL("../../docs/api.md", import.meta.url);
  writeFileSync(path, withRouteTable(readFileSync(path, "utf8")));
  console.log("docs/api.md: route table written from functions/devices/registry.ts");
}
