// The SQL helpers every device request calls, as SQL-language functions (before
// 20261202001000_cached_plans.sql, copied from the earlier migrations) and as plpgsql
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
const OLD = `
create or replace function device_api.rate_limit_state(p_bucket text, p_window_seconds integer,
                                                       out hits integer, out retry_after integer)
language sql stable as $$
  select coalesce(sum(w.hits), 0)::integer,
         greatest(1, ceil(extract(epoch from min(w.window_start)) + p_window_seconds
                          + device_api.rate_limit_slot_seconds(p_window_seconds)
                          - extract(epoch from now())))::integer
  from device_api.rate_limit_windows w
  where w.bucket = p_bucket
    and w.window_start >= device_api.rate_limit_slot(p_window_seconds)
                          - make_interval(secs => p_window_seconds)
$$;
create or replace function device_api.commit_lazily()
returns void language sql as $$
  select set_config('device_api.synchronous_commit_was', current_setting('synchronous_commit'), true),
         set_config('synchronous_commit', 'off', true)
   where current_setting('device_api.must_flush', true) is distinct from 'on'
     and coalesce(current_setting('device_api.synchronous_commit_was', true), '') = ''
$$;
create or replace function device_api.commit_durably()
returns void language sql as $$
  select set_config('device_api.must_flush', 'on', true),
         set_config('synchronous_commit', coalesce(nullif(current_setting('device_api.synchronous_commit_was', true), ''),
                                                   current_setting('synchronous_commit')), true)
$$;`;
const NEW = await readFile(join(PROJECT_ROOT, "supabase/migrations/20261202001000_cached_plans.sql"), "utf8");
try {
  const user = randomUUID();
  await sql`insert into auth.users (id, email) values (${user}, 'x@y')`;
  const hash = `h${randomUUID()}`;
  await sql`insert into public.devices (user_id, name, device_token_hash, activated_at) values (${user}, 'b', ${hash}, now())`;
  const call = (seq: number) => sql`
    select * from device_api.reserve_upload(${hash}, ${seq}, ${`p${seq}.jpg`}, 'image/jpeg', ${null}, ${null}, 300,
      1000000000, 86400, 1000000000, 1000000000)`;
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
