// `npm run bench:worker`: the photo worker against the local stack, beside its limits measured
// in the same run on the same files: sharp alone (the worker's own analysePhoto: decode at
// preview size, two WebP encodes, the measurements) in a loop, and the download alone. At
// concurrency 1 (one core) and N (the machine's cores). Then the bytes a camera keeps a month.
// A benchmark, not a test: it prints figures (docs/photos.md).
//
//   npm run bench:worker -- [--photos 240]
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { loadStorageConfig } from "../../functions/_shared/config.ts";
import { createStorageDriver } from "../../functions/_shared/storage/index.ts";
import { renderFrame } from "../sim/scene.ts";
import { startStack } from "../stack/stack.ts";
import { analysePhoto } from "../worker/analyse.ts";
import { localWorkerEnv } from "../worker/stack-env.ts";
import { startWorker } from "../worker/spawn.ts";

const { values: args } = parseArgs({ options: { photos: { type: "string", default: "240" } } });
const photos = Number(args.photos);
const cores = availableParallelism();

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
  const stats = new Map<number, string[]>();
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    if (text) stats.set(Number(name), text.slice(text.lastIndexOf(")") + 2).split(" "));
  }
  // fields after the command: [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime
  const ticks = (f: string[], withReaped: boolean) =>
    Number(f[11]) + Number(f[12]) + (withReaped ? Number(f[13]) + Number(f[14]) : 0);
  const root = stats.get(rootPid);
  if (!root) return 0;
  let total = ticks(root, true);
  for (const f of stats.values()) if (Number(f[1]) === rootPid) total += ticks(f, true);
  return total / TICKS_PER_S;
}

const selfCpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

const workDir = await mkdtemp(join(tmpdir(), "lifelog-bench-worker-"));
const stack = await startStack({ workDir, ports: "random" });
const sql = postgres(stack.info.db_url, { max: 2, onnotice: () => {} });
try {
  const env = localWorkerEnv(stack.info);
  const config = loadStorageConfig(env);
  const store = createStorageDriver(config);
  const keys: string[] = [];
  const files: Uint8Array[] = [];
  for (let i = 0; i < photos; i++) {
    const { jpeg } = await renderFrame(i, photos);
    const key = `bench/${i}.jpg`;
    await store.putObject(key, jpeg, "image/jpeg");
    const [item] = await sql`
      insert into public.source_items (user_id, item_type, storage_key, content_type, captured_at, ntp_synced, metadata)
      values (${stack.info.user.id}, 'photo', ${key}, 'image/jpeg', now() + make_interval(secs => ${i * 300}), true,
              jsonb_build_object('size', ${jpeg.length}::int)) returning id`;
    await sql`insert into public.processing_jobs (item_id) values (${item.id})`;
    keys.push(key);
    files.push(jpeg);
  }

  const postmasterPid = Number((await readFile(join(workDir, "pgdata", "postmaster.pid"), "utf8")).split("\n")[0]);
  // The store's two processes run inside this one (s3rver and the SigV4 gate in front of it),
  // so this process's CPU while the worker runs is the store's; Postgres and the (idle) Deno
  // function host are processes of their own. All share the machine's cores with the worker.
  const stores = [
    { label: "through the SigV4 gate", endpoint: stack.info.storage.endpoint },
    { label: "s3rver direct (no gate)", endpoint: stack.info.storage.backend_endpoint },
  ];
  const rows: string[] = [];
  const costs: string[] = [];
  const phases: string[] = [];
  for (const c of [...new Set([1, cores])]) {
    const download = await timed(keys, c, (k) => store.getObject(k, config.maxPhotoBytes));
    const cpuBefore = selfCpuSeconds();
    const alone = await timed(files, c, (f) => analysePhoto(f));
    const aloneCpu = selfCpuSeconds() - cpuBefore;
    const rate = (s: number) => (photos / s).toFixed(1);
    for (const s of stores) {
      await sql`update public.processing_jobs set status = 'queued', attempts = 0, run_after = now() - interval '1 second',
                  locked_by = null, lease_until = null, finished_at = null`;
      const before = { store: selfCpuSeconds(), pg: await treeCpuSeconds(postmasterPid), fn: await treeCpuSeconds(stack.fn.pid) };
      const run = startWorker(["--once", "--concurrency", String(c), "--name", `bench-${c}`],
        { ...process.env as Record<string, string>, ...env, S3_ENDPOINT: s.endpoint });
      const { code, stdout, stderr } = await run.done;
      if (code !== 0) throw new Error(`worker failed: ${stderr}`);
      const storeCpu = selfCpuSeconds() - before.store;
      const pgCpu = await treeCpuSeconds(postmasterPid) - before.pg;
      const fnCpu = await treeCpuSeconds(stack.fn.pid) - before.fn;
      const tally = JSON.parse(stdout.trim().split("\n").at(-1)!);
      if (tally.done !== photos) throw new Error(`worker did ${tally.done} of ${photos}: ${stderr.slice(-500)}`);
      rows.push(`| ${c} | ${s.label} | ${rate(tally.elapsed_s)} | ${rate(alone)} | ${(alone / tally.elapsed_s).toFixed(2)} | ${rate(download)} | ${tally.peak_rss_mb} MB |`);
      const per = (cpu: number) => `${(cpu * 1000 / photos).toFixed(1)} ms`;
      costs.push(`| ${c} | ${s.label} | ${tally.elapsed_s.toFixed(1)} s | ${per(aloneCpu)} | ${per(tally.cpu_s)} | ${(aloneCpu / tally.cpu_s).toFixed(2)} | ${per(storeCpu)} | ${per(pgCpu)} | ${per(fnCpu)} |`);
      phases.push(`  concurrency ${c}, ${s.label}: ` + Object.entries(tally.phase_ms as Record<string, number>)
        .map(([k, v]) => `${k} ${(v / photos).toFixed(1)}`).join(", "));
    }
  }
  console.log(`\n${photos} photos of the simulated day (800 x 600 JPEG), ${cores} cores; sharp alone and the download alone`);
  console.log("measured in the same run just before the worker, on the same files.\n");
  console.log("| concurrency | store | worker photos/s | sharp alone photos/s | worker / sharp alone | download alone photos/s | worker peak RSS |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) console.log(r);
  console.log("\nCPU a photo, by process, while the worker runs (all on the same cores; the machine's other load");
  console.log("changes wall time but hardly CPU time, so the CPU ratio is the steadier measure of the worker's own overhead):\n");
  console.log("| concurrency | store | worker wall | sharp alone CPU | worker CPU | sharp alone CPU / worker CPU | store CPU (s3rver + gate) | Postgres CPU | Deno function host CPU |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of costs) console.log(r);
  console.log("\nworker wall ms a photo per phase (jobs overlap, so phases overlap):");
  for (const p of phases) console.log(p);

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
  await sql.end();
  await stack.stop();
  await rm(workDir, { recursive: true, force: true });
}
