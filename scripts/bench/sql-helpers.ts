// The SQL helpers every device request calls, as SQL-language functions (before
// 20261202001000_cached_plans.sql, read from the earlier migrations) and as plpgsql
// (that migration), alternating on one Postgres: the backend's CPU per reserve_upload call.
//   npx tsx scripts/bench/sql-helpers.ts [calls per round, 3000]
// The repeated ask for a reserved seq, with synchronous_commit off: the CPU part only (a
// flush costs the same either way), and no table that grows between rounds.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import postgres from "postgres";
import { startPostgres } from "../stack/postgres.ts";
import { freePort } from "../stack/ports.ts";
import { PROJECT_ROOT } from "../stack/stack.ts";

const N = Number(process.argv[2] ?? 3000);
const pg = await startPostgres({ dataDir: join(PROJECT_ROOT, ".local/bench/sql-helpers"), port: await freePort(), projectRoot: PROJECT_ROOT });
const sql = postgres(pg.url, { max: 1, prepare: false, onnotice: () => {} });
// One function's definition as a migration wrote it, from its name to the end of its
// $$-quoted body, as a `create or replace` (the migrations have already made it).
function definition(migration: string, name: string): string {
  const at = migration.search(new RegExp(`create (or replace )?function ${name.replace(".", "\\.")}\\(`));
  const signature = migration.indexOf(name, at);
  const body = migration.indexOf("$$", signature);
  const end = migration.indexOf("$$", body + 2);
  if (at < 0 || body < 0 || end < 0) throw new Error(`${name} is not in the migration`);
  return `create or replace function ${migration.slice(signature, end + 2)};`;
}
const migration = (file: string) => readFile(join(PROJECT_ROOT, "supabase/migrations", file), "utf8");
const OLD = [
  definition(await migration("20261201001000_abuse_resistance.sql"), "device_api.rate_limit_state"),
  definition(await migration("20261202000000_performance.sql"), "device_api.commit_lazily"),
  definition(await migration("20261202000000_performance.sql"), "device_api.commit_durably"),
].join("\n");
const NEW = await readFile(join(PROJECT_ROOT, "supabase/migrations/20261202001000_cached_plans.sql"), "utf8");
try {
  const user = randomUUID();
  await sql`insert into auth.users (id, email) values (${user}, 'x@y')`;
  const hash = `h${randomUUID()}`;
  await sql`insert into public.devices (user_id, name, device_token_hash, activated_at) values (${user}, 'b', ${hash}, now())`;
  const call = (seq: number) => sql`
    select * from device_api.reserve_upload(p_token_hash => ${hash}, p_seq => ${seq}, p_filename => ${`p${seq}.jpg`},
      p_content_type => 'image/jpeg', p_size => ${null}, p_sha256 => ${null}, p_url_ttl_seconds => 300,
      p_max_outstanding => 1000000000, p_reservation_ttl_seconds => 86400,
      p_per_device_per_minute => 1000000000, p_per_user_per_minute => 1000000000)`;
  await sql`set synchronous_commit = off`;
  await call(1);
  const [{ pid }] = await sql`select pg_backend_pid() as pid`;
  // utime + stime of the backend, in ticks of 10 ms (USER_HZ, man 5 proc)
  const cpu = async () => {
    const f = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  };
  for (let round = 0; round < 3; round++) {
    for (const [label, ddl] of [["old (sql)", OLD], ["new (plpgsql)", NEW]] as const) {
      await sql.unsafe(ddl);
      for (let i = 0; i < 200; i++) await call(1);
      const t0 = performance.now();
      const c0 = await cpu();
      for (let i = 0; i < N; i++) await call(1);
      const c1 = await cpu();
      console.log(`round ${round} ${label}: backend CPU ${((c1 - c0) / N).toFixed(3)} ms per reserve_upload ` +
        `(round trip ${((performance.now() - t0) / N).toFixed(3)} ms)`);
    }
  }
} finally {
  await sql.end();
  await pg.stop();
}
