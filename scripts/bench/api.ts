// `npm run bench`: the device routes against the floors of their unavoidable work, side by
// side in one run on the local stack, plus database work per request and the function's
// memory over a long mixed run. A benchmark, not a test: it prints figures and asserts nothing.
//
//   npm run bench -- [--requests 2000] [--concurrency 1,10] [--mixed 100000] [--checkpoint 10000]
//                    [--memory-only] [--json out.json] [--work-dir .local/bench/stack]
//                    [--function-env NAME=value,…]
import { randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createLocalUser } from "../stack/auth.ts";
import { PROJECT_ROOT, startStack, type Stack } from "../stack/stack.ts";
import { type BenchRequest, type LoadResult, runLoad } from "./load.ts";
import { type DbCounters, dbCounters, POSTGRES_INSTRUMENT, postmasterPid, startBaselineHost } from "./server-counters.ts";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "1,10" },
    mixed: { type: "string", default: "100000" },
    checkpoint: { type: "string", default: "10000" },
    "memory-only": { type: "boolean", default: false },
    json: { type: "string" },
    "work-dir": { type: "string", default: ".local/bench/stack" }, // another one lets two runs overlap
    "function-env": { type: "string", default: "" }, // e.g. DEVICE_DB_POOL_SIZE=10 (experiments)
  },
});
const REQUESTS = Number(args.requests);
const CONCURRENCIES = args.concurrency!.split(",").map(Number);
const MIXED = Number(args.mixed);
const CHECKPOINT = Number(args.checkpoint);

// Limits raised so that the benchmark measures the routes' work, not their refusals. Not the
// outstanding uploads per device (32 by default): a device holding thousands would make each
// new reservation count them, which no camera does; rows that reserve new seqs use fresh
// devices instead, SEQS_PER_DEVICE each.
const SEQS_PER_DEVICE = 30;
const FUNCTION_ENV = {
  DEVICE_PAIRINGS_PER_HOUR: "100000",
  DEVICE_ACTIVATION_FAILURES: "1000000000",
  DEVICE_ACTIVATION_FAILURES_PER_MINUTE: "1000000000",
  DEVICE_ACTIVATION_FAILURES_PER_SOURCE: "1000000000",
  DEVICE_REQUESTS_PER_MINUTE: "1000000000",
  DEVICE_ACCOUNT_REQUESTS_PER_MINUTE: "1000000000",
  ...Object.fromEntries(args["function-env"]!.split(",").filter(Boolean).map((kv) => kv.split("=", 2))),
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

interface Row {
  work: string;
  concurrency: number;
  result: LoadResult;
  /** the baseline this route is compared with (the performance targets), and the ratio of req/s */
  versus?: { baseline: string; ratio: number };
  /** the same for the floor of a route that must flush what it wrote (durable write) */
  floor?: { baseline: string; ratio: number };
  /** per request */
  db?: DbCounters;
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
}

/**
 * The function's GC pauses, from V8's --trace-gc lines ("…: Scavenge 9.1 (10.2) -> 8.7 (11.2) MB,
 * 0.62 / 0.00 ms …"), line-buffered (edge-runtime.ts): counted per stretch of the mixed run.
 */
function gcTracker() {
  // An incremental mark-compact also ran "(+ 74.3 ms in 61 steps …, biggest step 68.4 ms …)"
  // on the main thread before its final pause: counted in, and its biggest step as a pause.
  const GC_LINE = /: (?:Incremental )?(Scavenge|Mark-Compact|Mark-Sweep|Minor Mark-Sweep)\b.*?, ([\d.]+) \/ [\d.]+ ms(?: \(\+ ([\d.]+) ms in \d+ steps.*?biggest step ([\d.]+) ms)?/;
  let count = 0, pauseMs = 0, maxMs = 0;
  return {
    take(line: string): boolean {
      const m = GC_LINE.exec(line);
      if (!m || !line.startsWith("devices: [")) return false;
      if (/\btesting\b/.test(line)) return true; // the bench's own gc() (reason "testing"), not the load's
      const [main, steps, biggest] = [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
      count++;
      pauseMs += main + steps;
      maxMs = Math.max(maxMs, main, biggest);
      return true;
    },
    /** pauses since the last call */
    window() {
      const w = { count, pauseMs, maxMs };
      count = 0; pauseMs = 0; maxMs = 0;
      return w;
    },
  };
}

/** The function's memory after a full GC (function-host.ts prints it on SIGUSR2; --expose-gc). */
interface MemorySample {
  requests: number;
  /** the stretch of the mixed run that ended here: latencies and the function's GC pauses */
  stretch?: { p50Ms: number; p99Ms: number; gc: { count: number; pauseMs: number; maxMs: number } };
  rssMiB: number;
  afterGc: { rssMiB: number; heapUsedMiB: number; heapTotalMiB: number; externalMiB: number };
}

function memoryProbe(pid: number) {
  let waiting: ((m: Record<string, number>) => void) | undefined;
  const PREFIX = "devices: function-host memory ";
  return {
    /** the stack's log line, if it is a memory reading */
    take(line: string): boolean {
      if (!line.startsWith(PREFIX)) return false;
      waiting?.(JSON.parse(line.slice(PREFIX.length).trim()));
      waiting = undefined;
      return true;
    },
    async sample(requests: number): Promise<MemorySample> {
      const rssMiB = (await rssKiB(pid)) / 1024;
      let timer: NodeJS.Timeout | undefined;
      const m = await new Promise<Record<string, number>>((resolve, reject) => {
        waiting = resolve;
        process.kill(pid, "SIGUSR2");
        timer = setTimeout(() => reject(new Error("no memory reading from the function (is it run with --expose-gc?)")), 10_000);
      }).finally(() => clearTimeout(timer));
      const mib = (b: number) => b / 2 ** 20;
      return {
        requests, rssMiB,
        afterGc: { rssMiB: (await rssKiB(pid)) / 1024, heapUsedMiB: mib(m.heapUsed), heapTotalMiB: mib(m.heapTotal), externalMiB: mib(m.external) },
      };
    },
  };
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "—";
}

async function main() {
  let probe: ReturnType<typeof memoryProbe> | undefined;
  const gc = gcTracker();
  const log = (l: string) => {
    if (probe?.take(l) || gc.take(l)) return;
    if (!l.startsWith("devices: {")) process.stderr.write(`${l}\n`); // not the function's line per request
  };
  log(`bench: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
    `${REQUESTS} requests per run at concurrency ${CONCURRENCIES.join(" and ")}`);
  const stack = await startStack({
    ports: "random",
    workDir: join(PROJECT_ROOT, args["work-dir"]!),
    functionEnv: FUNCTION_ENV,
    instrumentPostgres: POSTGRES_INSTRUMENT,
    // Only the benchmark's function can be told to collect garbage (function-host.ts).
    // --trace-gc: each collection's pause, to set beside the latencies.
    functionV8Flags: ["--expose-gc", "--trace-gc"],
    log,
  });
  probe = memoryProbe(stack.fn.pid);
  const postmaster = await postmasterPid(stack);
  const pids = { fn: stack.fn.pid, postmaster };
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
    // The durable-write floor's table (baseline-host.ts): one row, its primary key, a timestamp.
    await admin`create schema bench`;
    await admin`create table bench.durable_writes (id bigint generated always as identity primary key,
                                                    at timestamptz not null default now())`;
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
    for (const path of ["/bare", "/select1", "/head-select", "/head-write"]) {
      await runLoad({ baseUrl: baseline.url, connections: maxConc, requests: 500, makeRequest: () => ({ method: "GET", path }) });
    }

    const measure = async (work: string, url: string, concurrency: number, make: (i: number) => BenchRequest,
                           versus?: string, floor?: string) => {
      const served = { ...pids, fn: url === baseline.url ? baseline.pid : pids.fn };
      const before = await dbCounters(admin, served);
      const result = await runLoad({ baseUrl: url, connections: concurrency, requests: REQUESTS, makeRequest: make });
      const after = await dbCounters(admin, served);
      const db = Object.fromEntries(Object.keys(after).map((k) => {
        const key = k as keyof DbCounters;
        return [key, (after[key] - before[key]) / REQUESTS];
      })) as unknown as DbCounters;
      const row: Row = { work, concurrency, result, db };
      const ratioTo = (baseline?: string) => {
        const base = baseline && rows.find((r) => r.work === baseline && r.concurrency === concurrency);
        return base ? { baseline: baseline!, ratio: result.rps / base.result.rps } : undefined;
      };
      row.versus = ratioTo(versus);
      row.floor = ratioTo(floor);
      rows.push(row);
      const codes = Object.entries(result.statuses).map(([s, n]) => `${s}×${n}`).join(" ");
      log(`  ${work} @${concurrency}: ${fmt(result.rps)} req/s, p50 ${fmt(result.p50Ms, 1)} ms, p99 ${fmt(result.p99Ms, 1)} ms, ` +
        `CPU fn ${fmt(db.fnCpuMs, 2)} + pg ${fmt(db.pgCpuMs, 2)} ms, fn waited for a core ${fmt(db.fnWaitMs, 2)} ms, exec ${fmt(db.execMs, 2)} ms, ` +
        `${fmt(db.walSyncs, 2)} WAL syncs (${fmt(db.walSyncMs, 2)} ms) per request [${codes}]`);
    };

    // Request i of a row that reserves new seqs: its connection's device for this block of
    // SEQS_PER_DEVICE requests (concurrent requests use different devices, as c cameras would).
    const freshDevices = async (c: number) => {
      const devices: string[] = [];
      for (let n = c * Math.ceil(REQUESTS / (c * SEQS_PER_DEVICE)); n > 0; n--) devices.push(await newDevice(stack, admin));
      return (i: number) => devices[(i % c) + c * Math.floor(i / (c * SEQS_PER_DEVICE))];
    };

    let seqBase = 1_000;
    for (const c of args["memory-only"] ? [] : CONCURRENCIES) {
      const dev = (i: number) => tokens[i % c];
      const hdr = (i: number) => ({ "x-device-token": dev(i) });
      const reserving = await freshDevices(c);
      await measure("bare handler", baseline.url, c, () => ({ method: "GET", path: "/bare" }));
      await measure("select 1", baseline.url, c, () => ({ method: "GET", path: "/select1" }));
      await measure("storage HEAD", baseline.url, c, () => ({ method: "GET", path: "/head" }));
      await measure("HEAD + select 1", baseline.url, c, () => ({ method: "GET", path: "/head-select" }));
      await measure("durable write", baseline.url, c, () => ({ method: "GET", path: "/write" }));
      await measure("HEAD + durable write", baseline.url, c, () => ({ method: "GET", path: "/head-write" }));

      const fresh = seqBase;
      seqBase += REQUESTS;
      await measure("upload-url, new seq", stack.fn.url, c,
        (i) => post("upload-url", { filename: `p${fresh + i}.jpg`, content_type: "image/jpeg", seq: fresh + i }, { "x-device-token": reserving(i) }), "select 1", "durable write");
      await measure("upload-url, repeated seq", stack.fn.url, c,
        (i) => post("upload-url", { filename: "p1.jpg", content_type: "image/jpeg", seq: 1 }, hdr(i)), "select 1");

      // New ingests need their objects in storage first (not measured).
      const uploading = await freshDevices(c);
      const uploads = new Array<{ key: string; seq: number; token: string }>(REQUESTS);
      const seqIngest = seqBase;
      seqBase += REQUESTS;
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < REQUESTS) {
          const i = next++;
          const target = await uploadTarget(stack, uploading(i), seqIngest + i);
          await putPhoto(target, seqIngest + i);
          uploads[i] = { key: target.object_key, seq: seqIngest + i, token: uploading(i) };
        }
      }));
      const ingestOf = (u: { key: string; seq: number; token: string }) =>
        post("ingest", ingestBody(u.key, u.seq), { "x-device-token": u.token });
      await measure("ingest, new", stack.fn.url, c, (i) => ingestOf(uploads[i]), "HEAD + select 1", "HEAD + durable write");
      await measure("ingest, duplicate", stack.fn.url, c, (i) => ingestOf(uploads[i % c]), "select 1");
      await measure("activate, unknown code", stack.fn.url, c,
        (i) => post("activate", { pairing_code: `BCDF-${"GHJK"[i % 4]}LMN` }), "select 1");
    }

    // Memory over the long mixed run: RSS, and the heap after a full GC (what is still
    // referenced: a leak grows it, warm-up does not), every CHECKPOINT requests.
    const rssBefore = await rssKiB(stack.fn.pid);
    const memory: MemorySample[] = [await probe.sample(0)];
    gc.window();
    const mixedStarted = Date.now();
    const mixedStatuses: Record<number, number> = {};
    for (let done = 0; done < MIXED;) {
      const n = Math.min(CHECKPOINT, MIXED - done);
      const offset = done;
      const part = await runLoad({ baseUrl: stack.fn.url, connections: maxConc, requests: n, makeRequest: (i) => mixedRequest(offset + i) });
      for (const [k, v] of Object.entries(part.statuses)) mixedStatuses[Number(k)] = (mixedStatuses[Number(k)] ?? 0) + v;
      done += n;
      const pauses = gc.window();
      const m = { ...await probe.sample(done), stretch: { p50Ms: part.p50Ms, p99Ms: part.p99Ms, gc: pauses } };
      memory.push(m);
      log(`  mixed ${done}: RSS ${fmt(m.rssMiB, 1)} MiB; after GC: RSS ${fmt(m.afterGc.rssMiB, 1)}, heap used ${fmt(m.afterGc.heapUsedMiB, 2)} MiB, ` +
        `external ${fmt(m.afterGc.externalMiB, 2)} MiB; p50 ${fmt(part.p50Ms, 1)} / p99 ${fmt(part.p99Ms, 1)} ms; ` +
        `${pauses.count} GC pauses, ${fmt(pauses.pauseMs, 0)} ms in all, longest ${fmt(pauses.maxMs, 1)} ms`);
    }
    const mixed = { rps: MIXED / ((Date.now() - mixedStarted) / 1000), statuses: mixedStatuses };
    const rssAfter = await rssKiB(stack.fn.pid);

    const out: string[] = [];
    out.push(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${REQUESTS} requests per row`);
    out.push("");
    out.push("| work | conns | req/s | p50 ms | p99 ms | p99/p50 | vs baseline | vs durable floor | statements | xacts | rows written | " +
      "CPU ms fn / pg | fn waited for a core ms | exec ms | WAL syncs (ms) | statuses |");
    out.push("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    const ratio = (v?: { baseline: string; ratio: number }) => (v ? `${fmt(v.ratio, 2)} of ${v.baseline}` : "—");
    for (const r of rows) {
      const db = r.db!;
      out.push(`| ${r.work} | ${r.concurrency} | ${fmt(r.result.rps)} | ${fmt(r.result.p50Ms, 1)} | ${fmt(r.result.p99Ms, 1)} | ` +
        `${fmt(r.result.p99Ms / r.result.p50Ms, 1)} | ${ratio(r.versus)} | ${ratio(r.floor)} | ` +
        `${fmt(db.statements, 2)} | ${fmt(db.transactions, 2)} | ${fmt(db.rowsWritten, 2)} | ` +
        `${fmt(db.fnCpuMs, 2)} / ${fmt(db.pgCpuMs, 2)} | ${fmt(db.fnWaitMs, 2)} | ${fmt(db.execMs, 2)} | ${fmt(db.walSyncs, 2)} (${fmt(db.walSyncMs, 2)}) | ` +
        `${Object.entries(r.result.statuses).map(([s, n]) => `${s}×${n}`).join(" ")} |`);
    }
    out.push("");
    out.push(`function memory (RSS): ${fmt(rssBefore / 1024, 1)} MiB before, ${fmt(rssAfter / 1024, 1)} MiB after ` +
      `${MIXED} mixed requests (${fmt(mixed.rps)} req/s; ${Object.entries(mixed.statuses).map(([s, n]) => `${s}×${n}`).join(" ")})`);
    out.push("");
    out.push("| mixed requests | RSS MiB | after full GC: RSS MiB | heap used MiB | heap total MiB | external MiB | " +
      "stretch p50 / p99 ms | GC pauses in the stretch: count, ms in all, longest |");
    out.push("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const m of memory) {
      const st = m.stretch;
      out.push(`| ${m.requests} | ${fmt(m.rssMiB, 1)} | ${fmt(m.afterGc.rssMiB, 1)} | ${fmt(m.afterGc.heapUsedMiB, 2)} | ` +
        `${fmt(m.afterGc.heapTotalMiB, 1)} | ${fmt(m.afterGc.externalMiB, 2)} | ` +
        (st ? `${fmt(st.p50Ms, 1)} / ${fmt(st.p99Ms, 1)} | ${st.gc.count}, ${fmt(st.gc.pauseMs, 0)}, ${fmt(st.gc.maxMs, 1)} |` : "— | — |"));
    }
    console.log(out.join("\n"));
    if (args.json) {
      await mkdir(dirname(args.json), { recursive: true });
      await writeFile(args.json, JSON.stringify({ rows, memory: { rssBefore, rssAfter, mixed, samples: memory } }, null, 2));
    }
  } finally {
    for (const stop of stops) await stop();
  }
}

await main();
