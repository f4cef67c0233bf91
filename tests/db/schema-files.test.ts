// supabase/schema/*.sql is the database as the migrations leave it, in one place per schema:
// this fails while the checked-in files and the migrations (applied to the test stack by the
// Supabase CLI) disagree, and says which command brings them back in line.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { renderSchemas, SCHEMA_DIR, SEARCH_PATH } from "../../scripts/schema/render.ts";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";
import { stack } from "../support/stack.ts";

const sql = postgres(stack.db_url, { max: 1, onnotice: () => {}, connection: SEARCH_PATH });
afterAll(() => sql.end());

describe("supabase/schema", () => {
  it("holds exactly what the migrations make (run `npm run schema:dump` after a new migration)", async () => {
    const rendered = await renderSchemas(sql);
    const dir = join(PROJECT_ROOT, SCHEMA_DIR);
    expect((await readdir(dir)).filter((f) => f.endsWith(".sql")).sort(), "files in supabase/schema")
      .toEqual(Object.keys(rendered).sort());
    for (const [name, text] of Object.entries(rendered)) {
      const checkedIn = await readFile(join(dir, name), "utf8");
      expect(checkedIn, `supabase/schema/${name} differs from the migrations: run \`npm run schema:dump\``).toBe(text);
    }
  });
  it("has every function the migrations define, each once", async () => {
    const device = await readFile(join(PROJECT_ROOT, SCHEMA_DIR, "device_api.sql"), "utf8");
    const names = [...device.matchAll(/^CREATE OR REPLACE FUNCTION device_api\.(\w+)\(/gm)].map((m) => m[1]);
    const [{ count }] = await sql<{ count: number }[]>`
      select count(*)::int as count from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'device_api'`;
    expect(names.length).toBe(count);
    expect(names).toContain("ingest_many");
  });
});
