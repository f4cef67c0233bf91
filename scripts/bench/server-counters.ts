// What the server spent, read around a benchmark's run: CPU of the function's Deno process and
// of all of Postgres from /proc, and Postgres's own statistics (statements, transactions, rows,
// WAL flushes); and the baseline host (baseline-host.ts) the routes are compared with.
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type postgres from "postgres";
import { freePort, waitFor } from "../stack/ports.ts";
import { PROJECT_ROOT, type Stack } from "../stack/stack.ts";

/** Top-level statements only (one per round trip, whatever the SQL function does inside), and WAL flush timing. */
export const POSTGRES_INSTRUMENT = {
  postgresFlags: ["-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=top",
    "-c", "track_wal_io_timing=on"],
  adminSql: "create extension pg_stat_statements with schema extensions; grant pg_read_all_stats to postgres;",
};

/** The postmaster's pid, from its data folder in the stack's work folder. */
export async function postmasterPid(stack: Stack): Promise<number> {
  return Number((await readFile(join(stack.workDir, "pgdata/postmaster.pid"), "utf8")).split("\n")[0]);
}

/** Database work, read from the statistics views around a run; CPU from /proc. */
export interface DbCounters {
  statements: number;
  transactions: number;
  rowsWritten: number;
  /** time inside the top-level statements (pg_stat_statements; a commit's flush comes after) */
  execMs: number;
  /** WAL fsyncs and the time they took (pg_stat_wal, track_wal_io_timing) */
  walSyncs: number;
  walSyncMs: number;
  /** CPU of the Deno process that served the row (the function or the baseline host) and of
   *  all of Postgres (postmaster, backends, reaped ones) */
  fnCpuMs: number;
  pgCpuMs: number;
  /** time the serving Deno process's threads were runnable but waited for a core (schedstat) */
  fnWaitMs: number;
}

/** Time a process's threads spent waiting on a run queue, in ms (/proc/<pid>/task/<tid>/schedstat, field 2, ns). */
export async function runQueueWaitMs(pid: number): Promise<number> {
  let ns = 0;
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/schedstat`, "utf8").catch(() => "");
    ns += Number(stat.split(" ")[1] ?? 0);
  }
  return ns / 1e6;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux (sysconf(_SC_CLK_TCK), man 5 proc)

/** utime + stime (+ cutime + cstime: children it reaped) of a process, in ms. */
export async function cpuMs(pid: number, withReapedChildren = false): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  if (!stat) return 0;
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from 3 (state) on
  const ticks = Number(f[11]) + Number(f[12]) + (withReapedChildren ? Number(f[13]) + Number(f[14]) : 0);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** All of Postgres: the postmaster with the backends it reaped, plus its live children. */
export async function postgresCpuMs(postmasterPid: number): Promise<number> {
  let total = await cpuMs(postmasterPid, true);
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid === postmasterPid) total += await cpuMs(Number(entry));
  }
  return total;
}

export async function dbCounters(admin: postgres.Sql, pids: { fn: number; postmaster: number }): Promise<DbCounters> {
  // Backends publish their transaction and row counters when they exit (or, idle, up to
  // 10 s later): end the function's idle connections so every count is in. Its pool
  // reconnects on the next request.
  await admin`select pg_terminate_backend(pid) from pg_stat_activity
               where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`;
  await new Promise((r) => setTimeout(r, 300));
  await admin`select pg_stat_clear_snapshot()`;
  const [s] = await admin<{ calls: string; ms: number }[]>`
    select coalesce(sum(calls), 0)::text as calls, coalesce(sum(total_exec_time), 0)::float8 as ms
      from extensions.pg_stat_statements
     where dbid = (select oid from pg_database where datname = current_database())
       and query not ilike '%pg_stat%' and query not ilike '%pg_terminate_backend%'`;
  const [d] = await admin<{ xacts: string; rows: string }[]>`
    select (xact_commit + xact_rollback)::text as xacts,
           (select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) from pg_stat_all_tables
             where schemaname not in ('pg_catalog', 'information_schema', 'pg_toast'))::text as rows
      from pg_stat_database where datname = current_database()`;
  const [w] = await admin<{ syncs: string; ms: number }[]>`select wal_sync::text as syncs, wal_sync_time::float8 as ms from pg_stat_wal`;
  return {
    statements: Number(s.calls), transactions: Number(d.xacts), rowsWritten: Number(d.rows), execMs: s.ms,
    walSyncs: Number(w.syncs), walSyncMs: w.ms,
    fnCpuMs: await cpuMs(pids.fn), pgCpuMs: await postgresCpuMs(pids.postmaster), fnWaitMs: await runQueueWaitMs(pids.fn),
  };
}


export async function startBaselineHost(stack: Stack, headKey: string, extraEnv: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(join(PROJECT_ROOT, "node_modules/.bin/deno"), [
    "run", "--quiet", "--config", join(PROJECT_ROOT, "deno.json"),
    "--allow-net", "--allow-env", "--allow-read", "--allow-sys",
    join(PROJECT_ROOT, "scripts/bench/baseline-host.ts"),
  ], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      DENO_NO_UPDATE_CHECK: "1",
      BENCH_PORT: String(port),
      BENCH_HEAD_KEY: headKey,
      ...stack.fn.env, // the function's own settings: same database URL, pool size and store
      ...extraEnv,
    },
    stdio: ["pipe", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor("the baseline host", async () => (await fetch(`${url}/bare`).then((r) => r.text()).then(() => true)), 60_000);
  return { url, pid: child.pid!, stop: () => child.kill("SIGTERM") };
}

