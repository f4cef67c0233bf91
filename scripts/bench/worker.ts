// `npm run bench:worker`: the photo worker against the local stack, beside its limits measured
// in the same run on the same files: sharp alone (the worker's own analysePhoto: decode at
// preview size, two WebP encodes, the measurements) in a loop, and the download alone.
// A benchmark, not a test: it prints figures (docs/photos.md, docs/performance.md).
//
// How the comparison is kept fair:
// - sharp alone and the worker are each a child process of their own (same tsx, same
//   analyse.ts, so the same libvips settings: sharp.concurrency(1), Node's default threadpool);
// - "pinned": the thing measured runs on the last core (taskset) and the stand-ins for hosted
//   services (Postgres, the object store in its own process, the idle Deno function host, this
//   process) on the others, so photos/s there is per core; "unpinned": everything shares all
//   cores, as on one small VM running everything;
// - sharp-alone and worker passes alternate (ABBA) for --rounds rounds, so other load on the
//   machine hits both alike; the ratio is the median of the rounds, with its spread.
//
//   npm run bench:worker -- [--photos 240] [--rounds 5] [--only pinned|unpinned]
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { loadStorageConfig } from "../../functions/_shared/config.ts";
import { createStorageDriver } from "../../functions/_shared/storage/index.ts";
import { renderFrame } from "../sim/scene.ts";
import { PROJECT_ROOT, startStack } from "../stack/stack.ts";
import { localWorkerEnv } from "../worker/stack-env.ts";
import { startTsx, startWorker, type WorkerRun } from "../worker/spawn.ts";
import { onCpus, pin, processTree } from "./cpu-pinning.ts";

const { values: args } = parseArgs({ options: {
  photos: { type: "string", default: "240" }, rounds: { type: "string", default: "5" }, only: { type: "string" },
} });
const photos = Number(args.photos);
const rounds = Number(args.rounds);
const cores = availableParallelism();
const allCpus = `0-${cores - 1}`;

interface Setting {
  label: string;
  concurrency: number;
  /** CPUs of the process measured and of the stand-ins; null: all cores for everything */
  measured: string | null;
  standIns: string | null;
}
const settings: Setting[] = [
  ...(cores >= 2 ? [{ label: `pinned: measured on cpu ${cores - 1}, stand-ins on cpu 0${cores > 2 ? `-${cores - 2}` : ""}`, concurrency: 1,
    measured: String(cores - 1), standIns: cores > 2 ? `0-${cores - 2}` : "0" }] : []),
  ...[...new Set([1, cores])].map((c) => ({ label: "unpinned: everything on all cores", concurrency: c, measured: null, standIns: null })),
].filter((s) => !args.only || s.label.startsWith(args.only));

/** Runs fn over items, `concurrency` at a time; seconds taken. */
async function timed<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
  return (performance.now() - started) / 1000;
}

const TICKS_PER_S = 100; // USER_HZ on Linux

/** CPU seconds of a process (with its reaped children) and its live children, from /proc. */
async function treeCpuSeconds(rootPid: number): Promise<number> {
  let total = 0;
  for (const pid of await processTree(rootPid)) {
    const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    if (!text) continue;
    // fields after the command: [11] utime, [12] stime, [13] cutime, [14] cstime
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    total += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return total / TICKS_PER_S;
}

interface Tally { done: number; elapsed_s: number; cpu_s: number; peak_rss_mb: number; gc_ms: Record<string, number>; thread_cpu_s: Record<string, number>; phase_ms?: Record<string, number> }

async function finished(run: WorkerRun, what: string): Promise<Tally> {
  const { code, stdout, stderr } = await run.done;
  if (code !== 0) throw new Error(`${what} failed (${code}): ${stderr.slice(-1000)}`);
  const tally = JSON.parse(stdout.trim().split("\n").at(-1)!) as Tally;
  if (tally.done !== photos) throw new Error(`${what} did ${tally.done} of ${photos}: ${stderr.slice(-500)}`);
  return tally;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

const workDir = await mkdtemp(join(tmpdir(), "lifelog-bench-worker-"));
const stack = await startStack({ workDir, ports: "random" });
const sql = postgres(stack.info.db_url, { max: 2, onnotice: () => {} });
const bucket = stack.info.storage.bucket;
// the stack's own store runs inside this process; the worker gets one in a process of its own
const storeRun = startTsx(join(PROJECT_ROOT, "scripts/bench/object-store-process.ts"), [join(workDir, "bench-objects"), bucket],
  process.env as Record<string, string>);
try {
  const storeEndpoint = await new Promise<string>((resolve, reject) => {
    let line = "";
    storeRun.child.stdout!.on("data", (d) => {
      line += d;
      if (line.includes("\n")) resolve(JSON.parse(line.split("\n")[0]).endpoint);
    });
    storeRun.done.then(({ stderr }) => reject(new Error(`object store process ended: ${stderr}`)));
  });
  const env = { ...localWorkerEnv(stack.info), S3_ENDPOINT: storeEndpoint };
  const config = loadStorageConfig(env);
  const store = createStorageDriver(config);
  const filesDir = join(workDir, "files");
  await mkdir(filesDir);
  const keys: string[] = [];
  for (let i = 0; i < photos; i++) {
    const { jpeg } = await renderFrame(i, photos);
    const key = `bench/${i}.jpg`;
    await store.putObject(key, jpeg, "image/jpeg");
    await writeFile(join(filesDir, `${String(i).padStart(5, "0")}.jpg`), jpeg);
    const [item] = await sql`
      insert into public.source_items (user_id, item_type, storage_key, content_type, captured_at, ntp_synced, metadata)
      values (${stack.info.user.id}, 'photo', ${key}, 'image/jpeg', now() + make_interval(secs => ${i * 300}), true,
              jsonb_build_object('size', ${jpeg.length}::int)) returning id`;
    await sql`insert into public.processing_jobs (item_id) values (${item.id})`;
    keys.push(key);
  }
  const download = new Map<number, number>();
  for (const c of new Set([1, cores])) download.set(c, await timed(keys, c, (k) => store.getObject(k, config.maxPhotoBytes)));

  const postmasterPid = Number((await readFile(join(workDir, "pgdata", "postmaster.pid"), "utf8")).split("\n")[0]);
  const standInPids = async () => [process.pid, storeRun.child.pid!, ...await processTree(stack.fn.pid), ...await processTree(postmasterPid)];
  const standInCpu = async () => ({ store: await treeCpuSeconds(storeRun.child.pid!), pg: await treeCpuSeconds(postmasterPid), fn: await treeCpuSeconds(stack.fn.pid) });

  interface Pass { round: number; setting: Setting; alone: Tally; worker: Tally; store: number; pg: number; fn: number; load: string }
  const passes: Pass[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const setting of settings) {
      await pin(await standInPids(), setting.standIns ?? allCpus);
      const prefix = onCpus(setting.measured);
      const runAlone = () => finished(startTsx(join(PROJECT_ROOT, "scripts/bench/sharp-alone.ts"), [filesDir, String(setting.concurrency)],
        process.env as Record<string, string>, prefix), "sharp alone");
      const runWorker = async () => {
        await sql`update public.processing_jobs set status = 'queued', attempts = 0, run_after = now() - interval '1 second',
                    locked_by = null, lease_until = null, finished_at = null`;
        const before = await standInCpu();
        const tally = await finished(startWorker(["--once", "--concurrency", String(setting.concurrency), "--name", `bench-${setting.concurrency}`],
          { ...process.env as Record<string, string>, ...env }, prefix), "worker");
        const after = await standInCpu();
        return { tally, store: after.store - before.store, pg: after.pg - before.pg, fn: after.fn - before.fn };
      };
      const load = loadavg().map((l) => l.toFixed(2)).join(" ");
      // ABBA: odd rounds sharp alone first, even rounds the worker first
      let alone: Tally;
      let w: Awaited<ReturnType<typeof runWorker>>;
      if (round % 2) { alone = await runAlone(); w = await runWorker(); } else { w = await runWorker(); alone = await runAlone(); }
      passes.push({ round, setting, alone, worker: w.tally, store: w.store, pg: w.pg, fn: w.fn, load });
    }
  }
  await pin(await standInPids(), allCpus);

  const rate = (t: Tally) => photos / t.elapsed_s;
  const ratio = (p: Pass) => rate(p.worker) / rate(p.alone);
  const ms = (cpuS: number) => `${(cpuS * 1000 / photos).toFixed(1)} ms`;
  const perCore = (s: Setting, r: number) => (s.measured === null ? r / cores : r / s.measured.split(",").length);
  console.log(`\n${photos} photos of the simulated day (800 x 600 JPEG), ${cores} cores, ${rounds} rounds of sharp alone and the worker`);
  console.log("alternated (ABBA) on the same files; sharp alone and the worker each in a process of their own. Per core:");
  console.log("pinned, photos/s on the one core the measured process had; unpinned, photos/s divided by all cores.\n");
  console.log("| setting | concurrency | worker photos/s per core (median) | sharp alone photos/s per core (median) | worker / sharp alone, median (min-max) | download alone photos/s | worker peak RSS | sharp alone peak RSS |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const s of settings) {
    const mine = passes.filter((p) => p.setting === s);
    const ratios = mine.map(ratio);
    console.log(`| ${s.label} | ${s.concurrency} | ${perCore(s, median(mine.map((p) => rate(p.worker)))).toFixed(1)} | ` +
      `${perCore(s, median(mine.map((p) => rate(p.alone)))).toFixed(1)} | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}) | ` +
      `${(photos / download.get(s.concurrency)!).toFixed(1)} | ${Math.max(...mine.map((p) => p.worker.peak_rss_mb))} MB | ${Math.max(...mine.map((p) => p.alone.peak_rss_mb))} MB |`);
  }
  console.log("\nEvery pass: photos/s (not per core), and CPU a photo by process while the worker ran (load average: 1, 5, 15 min before the pair):\n");
  console.log("| round | setting | concurrency | sharp alone photos/s | worker photos/s | ratio | sharp alone CPU | worker CPU | store CPU (s3rver + gate) | Postgres CPU | Deno function host CPU | load average |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const p of passes) {
    console.log(`| ${p.round} | ${p.setting.measured === null ? "unpinned" : "pinned"} | ${p.setting.concurrency} | ${rate(p.alone).toFixed(1)} | ${rate(p.worker).toFixed(1)} | ` +
      `${ratio(p).toFixed(2)} | ${ms(p.alone.cpu_s)} | ${ms(p.worker.cpu_s)} | ${ms(p.store)} | ${ms(p.pg)} | ${ms(p.fn)} | ${p.load} |`);
  }
  console.log("\nworker wall ms a photo per phase, last round (jobs overlap, so phases overlap):");
  for (const p of passes.filter((x) => x.round === rounds)) {
    console.log(`  ${p.setting.measured === null ? "unpinned" : "pinned"}, concurrency ${p.setting.concurrency}: ` +
      Object.entries(p.worker.phase_ms ?? {}).map(([k, v]) => `${k} ${(v / photos).toFixed(1)}`).join(", "));
  }
  const gcLine = (t: Tally) => `${(Object.entries(t.gc_ms).filter(([k]) => !k.endsWith("_count")).reduce((a, [, v]) => a + v, 0) / photos).toFixed(2)} ms ` +
    `(${["minor", "major", "incremental"].map((k) => `${k} ${t.gc_ms[`${k}_count`] ?? 0}`).join(", ")})`;
  console.log("\ngarbage collection a photo on the main thread (collections in the pass), last round:");
  for (const p of passes.filter((x) => x.round === rounds)) {
    console.log(`  ${p.setting.measured === null ? "unpinned" : "pinned"}, concurrency ${p.setting.concurrency}: ` +
      `sharp alone ${gcLine(p.alone)}, worker ${gcLine(p.worker)}`);
  }
  const threadLine = (t: Tally) => Object.entries(t.thread_cpu_s).sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${(s * 1000 / photos).toFixed(1)}`).join(", ");
  console.log("\nCPU ms a photo by thread (main: JavaScript and GC; node: libuv's threadpool, V8's helpers), last round:");
  for (const p of passes.filter((x) => x.round === rounds)) {
    console.log(`  ${p.setting.measured === null ? "unpinned" : "pinned"}, concurrency ${p.setting.concurrency}:\n` +
      `    sharp alone: ${threadLine(p.alone)}\n    worker:      ${threadLine(p.worker)}`);
  }

  const [b] = await sql<{ original: number; preview: number; thumbnail: number }[]>`
    select avg((i.metadata->>'size')::int)::float8 as original, avg(d.preview_bytes)::float8 as preview,
           avg(d.thumbnail_bytes)::float8 as thumbnail
      from public.photo_derivatives d join public.source_items i on i.id = d.item_id`;
  const perMonth = 2880 * 30;
  const gb = (bytes: number) => (bytes * perMonth / 1e9).toFixed(2);
  console.log(`\nper camera-month (2,880 photos a day x 30), from this day's averages:`);
  console.log(`  original ${(b.original / 1024).toFixed(1)} KB, preview ${(b.preview / 1024).toFixed(1)} KB, thumbnail ${(b.thumbnail / 1024).toFixed(1)} KB a photo`);
  console.log(`  raw (originals only)        ${gb(b.original)} GB`);
  console.log(`  originals + derivatives     ${gb(b.original + b.preview + b.thumbnail)} GB`);
  console.log(`  derivatives only            ${gb(b.preview + b.thumbnail)} GB a month (what stays once originals expire)`);
} finally {
  storeRun.child.kill("SIGTERM");
  await storeRun.done;
  await sql.end();
  await stack.stop();
  await rm(workDir, { recursive: true, force: true });
}
