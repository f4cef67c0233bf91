// `npm run bench:worker`: the photo worker against the local stack, beside its limits measured
// in the same run on the same files: sharp alone (the worker's own analysePhoto: decode at
// preview size, two WebP encodes, the measurements) in a loop, and the download alone. At
// concurrency 1 (one core) and N (the machine's cores). Then the bytes a camera keeps a month.
// A benchmark, not a test: it prints figures (docs/photos.md).
//
//   npm run bench:worker -- [--photos 240]
import { mkdtemp, rm } from "node:fs/promises";
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

  const rows: string[] = [];
  for (const c of [...new Set([1, cores])]) {
    const download = await timed(keys, c, (k) => store.getObject(k, config.maxPhotoBytes));
    const alone = await timed(files, c, (f) => analysePhoto(f));
    await sql`update public.processing_jobs set status = 'queued', attempts = 0, run_after = now() - interval '1 second',
                locked_by = null, lease_until = null, finished_at = null`;
    const run = startWorker(["--once", "--concurrency", String(c), "--name", `bench-${c}`], { ...process.env as Record<string, string>, ...env });
    const { code, stdout, stderr } = await run.done;
    if (code !== 0) throw new Error(`worker failed: ${stderr}`);
    const tally = JSON.parse(stdout.trim().split("\n").at(-1)!);
    if (tally.done !== photos) throw new Error(`worker did ${tally.done} of ${photos}: ${stderr.slice(-500)}`);
    const rate = (s: number) => (photos / s).toFixed(1);
    rows.push(`| ${c} | ${rate(tally.elapsed_s)} | ${rate(alone)} | ${(alone / tally.elapsed_s).toFixed(2)} | ${rate(download)} | ${tally.peak_rss_mb} MB |`);
  }
  console.log(`\n${photos} photos of the simulated day (800 x 600 JPEG), ${cores} cores\n`);
  console.log("| concurrency | worker photos/s | sharp alone photos/s | worker / sharp alone | download alone photos/s | worker peak RSS |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const r of rows) console.log(r);

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
