// `npm run bench`: the device routes against the floors of their unavoidable work, side by
// side in one run on the local stack, plus database work per request and the function's
// memory over a long mixed run. A benchmark, not a test: it prints figures and asserts nothing.
//
//   npm run bench -- [--requests 2000] [--concurrency 1,10] [--mixed 100000] [--json out.json]
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFile, mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createLocalUser } from "../stack/auth.ts";
import { freePort, waitFor } from "../stack/ports.ts";
import { PROJECT_ROOT, startStack, type Stack } from "../stack/stack.ts";
import { type BenchRequest, type LoadResult, runLoad } from "./load.ts";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "1,10" },
    mixed: { type: "string", default: "100000" },
    json: { type: "string" },
  },
});
const REQUESTS = Number(args.requests);
const CONCURRENCIES = args.concurrency!.split(",").map(Number);
const MIXED = Number(args.mixed);

// Limits raised so that the benchmark measures the routes' work, not their refusals.
const FUNCTION_ENV = {
  DEVICE_PAIRINGS_PER_HOUR: "100000",
  DEVICE_ACTIVATION_FAILURES: "1000000000",
  DEVICE_ACTIVATION_FAILURES_PER_MINUTE: "1000000000",
  DEVICE_REQUESTS_PER_MINUTE: "1000000000",
  DEVICE_ACCOUNT_REQUESTS_PER_MINUTE: "1000000000",
  DEVICE_MAX_OUTSTANDING_UPLOADS: "1000000000",
};

const jpegBytes = (seed: number): Buffer => {
  const b = Buffer.alloc(2048, seed & 0xff);
  b.set([0xff, 0xd8, 0xff, 0xe0], 0);
  b.set([0xff, 0xd9], b.length - 2);
  return b;
};

async function api(stack: Stack, route: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.fn.url}/devices/${route}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const parsed = await res.json() as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${route}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

async function newDevice(stack: Stack, sql: postgres.Sql): Promise<string> {
  const { accessToken } = await createLocalUser(sql, stack.authKey, `bench-${randomUUID().slice(0, 8)}@lifelog.local`);
  const paired = await api(stack, "pair", { name: "bench" }, { authorization: `Bearer ${accessToken}` });
  const activated = await api(stack, "activate", { pairing_code: paired.pairing_code });
  return activated.device_token as string;
}

async function uploadTarget(stack: Stack, token: string, seq: number) {
  return await api(stack, "upload-url", { filename: `p${seq}.jpg`, content_type: "image/jpeg", seq }, { "x-device-token": token }) as {
    object_key: string;
    upload_url: string;
    upload_headers: Record<string, string>;
  };
}

async function putPhoto(target: { upload_url: string; upload_headers: Record<string, string> }, seq: number) {
  const res = await fetch(target.upload_url, { method: "PUT", headers: target.upload_headers, body: new Uint8Array(jpegBytes(seq)) });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error(`PUT: ${res.status}`);
}

const post = (route: string, body: unknown, headers: Record<string, string> = {}): BenchRequest => ({
  method: "POST",
  path: `/devices/${route}`,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

const ingestBody = (objectKey: string, seq: number) =>
  ({ object_key: objectKey, seq, captured_at: "2026-12-01T10:00:00Z", content_type: "image/jpeg", ntp_synced: true });

/** Database work, read from the statistics views around a run. */
interface DbCounters {
  statements: number;
  transactions: number;
  rowsWritten: number;
}

async function dbCounters(admin: postgres.Sql): Promise<DbCounters> {
  // Backends publish their transaction and row counters when they exit (or, idle, up to
  // 10 s later): end the function's idle connections so every count is in. Its pool
  // reconnects on the next request.
  await admin`select pg_terminate_backend(pid) from pg_stat_activity
               where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`;
  await new Promise((r) => setTimeout(r, 300));
  await admin`select pg_stat_clear_snapshot()`;
  const [s] = await admin<{ calls: string }[]>`
    select coalesce(sum(calls), 0)::text as calls from extensions.pg_stat_statements
     where dbid = (select oid from pg_database where datname = current_database())
       and query not ilike '%pg_stat%' and query not ilike '%pg_terminate_backend%'`;
  const [d] = await admin<{ xacts: string; rows: string }[]>`
    select (xact_commit + xact_rollback)::text as xacts,
           (select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) from pg_stat_all_tables
             where schemaname not in ('pg_catalog', 'information_schema', 'pg_toast'))::text as rows
      from pg_stat_database where datname = current_database()`;
  return { statements: Number(s.calls), transactions: Number(d.xacts), rowsWritten: Number(d.rows) };
}

interface Row {
  work: string;
  concurrency: number;
  result: LoadResult;
  /** the baseline this route is compared with, and the ratio of req/s */
  versus?: { baseline: string; ratio: number };
  db?: { statements: number; transactions: number; rowsWritten: number };
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
}

async function startBaselineHost(stack: Stack, headKey: string) {
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
    },
    stdio: ["pipe", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor("the baseline host", async () => (await fetch(`${url}/bare`).then((r) => r.text()).then(() => true)), 60_000);
  return { url, stop: () => child.kill("SIGTERM") };
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "—";
}

async function main() {
  const log = (l: string) => {
    if (!l.startsWith("devices: {")) process.stderr.write(`${l}\n`); // not the function's line per request
  };
  log(`bench: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
    `${REQUESTS} requests per run at concurrency ${CONCURRENCIES.join(" and ")}`);
  const stack = await startStack({
    ports: "random",
    workDir: join(PROJECT_ROOT, ".local/bench/stack"),
    functionEnv: FUNCTION_ENV,
    // Top-level statements only: one per round trip, whatever the SQL function does inside.
    instrumentPostgres: {
      postgresFlags: ["-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=top"],
      adminSql: "create extension pg_stat_statements with schema extensions; grant pg_read_all_stats to postgres;",
    },
    log,
  });
  const admin = postgres(stack.info.db_url, { max: 1, onnotice: () => {} });
  const stops: Array<() => unknown> = [() => admin.end(), () => stack.stop()];
  try {
    const rows: Row[] = [];

    // One device per connection, so no device's rows are the others' bottleneck.
    const maxConc = Math.max(...CONCURRENCIES);
    const tokens: string[] = [];
    for (let i = 0; i < maxConc; i++) tokens.push(await newDevice(stack, admin));
    const headTarget = await uploadTarget(stack, tokens[0], 0);
    await putPhoto(headTarget, 0);
    const headKey = headTarget.object_key;
    // Seq 1 of every device stays reserved and never ingested: the repeated ask.
    for (const t of tokens) await uploadTarget(stack, t, 1);
    const baseline = await startBaselineHost(stack, headKey);
    stops.unshift(baseline.stop);

    // The long mixed run's requests (also the warm-up): repeated upload-url, duplicate
    // ingest, unknown codes, bad JSON.
    const mixedRequest = (i: number): BenchRequest => {
      const h = { "x-device-token": tokens[i % maxConc] };
      switch (i % 4) {
        case 0: return post("upload-url", { filename: "p0.jpg", content_type: "image/jpeg", seq: 0 }, h);
        case 1: return post("ingest", ingestBody(headKey, 0), { "x-device-token": tokens[0] });
        case 2: return post("activate", { pairing_code: "BCDF-GHJK" });
        default: return { method: "POST", path: "/devices/ingest", headers: { ...h, "content-type": "application/json" }, body: "{\"seq\":" };
      }
    };
    // Warm both Deno processes' JIT before any row is measured.
    await runLoad({ baseUrl: stack.fn.url, connections: maxConc, requests: 2_000, makeRequest: mixedRequest });
    for (const path of ["/bare", "/select1", "/head-select"]) {
      await runLoad({ baseUrl: baseline.url, connections: maxConc, requests: 500, makeRequest: () => ({ method: "GET", path }) });
    }

    const measure = async (work: string, url: string, concurrency: number, make: (i: number) => BenchRequest, versus?: string) => {
      const before = await dbCounters(admin);
      const result = await runLoad({ baseUrl: url, connections: concurrency, requests: REQUESTS, makeRequest: make });
      const after = await dbCounters(admin);
      const per = (k: keyof DbCounters) => (after[k] - before[k]) / REQUESTS;
      const row: Row = {
        work, concurrency, result,
        db: { statements: per("statements"), transactions: per("transactions"), rowsWritten: per("rowsWritten") },
      };
      if (versus) {
        const base = rows.find((r) => r.work === versus && r.concurrency === concurrency);
        if (base) row.versus = { baseline: versus, ratio: result.rps / base.result.rps };
      }
      rows.push(row);
      const codes = Object.entries(result.statuses).map(([s, n]) => `${s}×${n}`).join(" ");
      log(`  ${work} @${concurrency}: ${fmt(result.rps)} req/s, p50 ${fmt(result.p50Ms, 1)} ms, p99 ${fmt(result.p99Ms, 1)} ms [${codes}]`);
    };

    let seqBase = 1_000;
    for (const c of CONCURRENCIES) {
      const dev = (i: number) => tokens[i % c];
      const hdr = (i: number) => ({ "x-device-token": dev(i) });
      await measure("bare handler", baseline.url, c, () => ({ method: "GET", path: "/bare" }));
      await measure("select 1", baseline.url, c, () => ({ method: "GET", path: "/select1" }));
      await measure("storage HEAD", baseline.url, c, () => ({ method: "GET", path: "/head" }));
      await measure("HEAD + select 1", baseline.url, c, () => ({ method: "GET", path: "/head-select" }));

      const fresh = seqBase;
      seqBase += REQUESTS;
      await measure("upload-url, new seq", stack.fn.url, c,
        (i) => post("upload-url", { filename: `p${fresh + i}.jpg`, content_type: "image/jpeg", seq: fresh + i }, hdr(i)), "select 1");
      await measure("upload-url, repeated seq", stack.fn.url, c,
        (i) => post("upload-url", { filename: "p1.jpg", content_type: "image/jpeg", seq: 1 }, hdr(i)), "select 1");

      // New ingests need their objects in storage first (not measured).
      const uploads = new Array<{ key: string; seq: number }>(REQUESTS);
      const seqIngest = seqBase;
      seqBase += REQUESTS;
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < REQUESTS) {
          const i = next++;
          const target = await uploadTarget(stack, dev(i), seqIngest + i);
          await putPhoto(target, seqIngest + i);
          uploads[i] = { key: target.object_key, seq: seqIngest + i };
        }
      }));
      await measure("ingest, new", stack.fn.url, c,
        (i) => post("ingest", ingestBody(uploads[i].key, uploads[i].seq), hdr(i)), "HEAD + select 1");
      await measure("ingest, duplicate", stack.fn.url, c,
        (i) => post("ingest", ingestBody(uploads[i % c].key, uploads[i % c].seq), hdr(i % c)), "select 1");
      await measure("activate, unknown code", stack.fn.url, c,
        (i) => post("activate", { pairing_code: `BCDF-${"GHJK"[i % 4]}LMN` }), "select 1");
    }

    // Memory over the long mixed run.
    const rssBefore = await rssKiB(stack.fn.pid);
    const mixed = await runLoad({ baseUrl: stack.fn.url, connections: maxConc, requests: MIXED, makeRequest: mixedRequest });
    const rssAfter = await rssKiB(stack.fn.pid);

    const out: string[] = [];
    out.push(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${REQUESTS} requests per row`);
    out.push("");
    out.push("| work | conns | req/s | p50 ms | p99 ms | p99/p50 | vs baseline | statements | xacts | rows written | statuses |");
    out.push("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const r of rows) {
      out.push(`| ${r.work} | ${r.concurrency} | ${fmt(r.result.rps)} | ${fmt(r.result.p50Ms, 1)} | ${fmt(r.result.p99Ms, 1)} | ` +
        `${fmt(r.result.p99Ms / r.result.p50Ms, 1)} | ${r.versus ? `${fmt(r.versus.ratio, 2)} of ${r.versus.baseline}` : "—"} | ` +
        `${fmt(r.db!.statements, 2)} | ${fmt(r.db!.transactions, 2)} | ${fmt(r.db!.rowsWritten, 2)} | ` +
        `${Object.entries(r.result.statuses).map(([s, n]) => `${s}×${n}`).join(" ")} |`);
    }
    out.push("");
    out.push(`function memory (RSS): ${fmt(rssBefore / 1024, 1)} MiB before, ${fmt(rssAfter / 1024, 1)} MiB after ` +
      `${MIXED} mixed requests (${fmt(mixed.rps)} req/s; ${Object.entries(mixed.statuses).map(([s, n]) => `${s}×${n}`).join(" ")})`);
    console.log(out.join("\n"));
    if (args.json) {
      await mkdir(dirname(args.json), { recursive: true });
      await writeFile(args.json, JSON.stringify({ rows, memory: { rssBefore, rssAfter, mixed } }, null, 2));
    }
  } finally {
    for (const stop of stops) await stop();
  }
}

await main();
