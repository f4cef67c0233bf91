// The photo worker: claims process_photo jobs, makes and stores each photo's derivatives,
// records them while completing the job (one transaction), and goes on after any failure.
// The database and the store are passed in; the image work is analyse.ts.
import type { Sql } from "../../functions/_shared/db.ts";
import { type ObjectStore, ObjectTooLargeError, type StorageDriver } from "../../functions/_shared/storage/driver.ts";

type Store = ObjectStore & Pick<StorageDriver, "deleteObject">;
import { analysePhoto, DERIVATIVE_CONTENT_TYPE, type PhotoAnalysis, UnusablePhotoError } from "./analyse.ts";
import { applyRetention } from "./retention.ts";
import { retriageAll } from "./retriage.ts";

export interface WorkerOptions {
  /** stable across restarts: a worker starting under its name takes its jobs back at once */
  name: string;
  /** photos decoded side by side (about one per core); jobsInHand(concurrency) jobs are in
   * hand, so downloads, uploads and database calls overlap the image work */
  concurrency: number;
  /** longer than the worst-case job (download, decode at the pixel limit, two uploads) */
  leaseSeconds: number;
  maxPhotoBytes: number;
  /** wait between claims when there is no work */
  idleMs: number;
  /** stop when no job is claimable (cron) */
  once: boolean;
  /** how often an idle worker applies the retention policies (and once when --once drains) */
  retentionEveryMs?: number;
  log: (line: string) => void;
  /** when given, each job adds its milliseconds per phase here (overlapping jobs overlap) */
  phaseMs?: Record<string, number>;
}

export type JobOutcome = "done" | "retry" | "dead" | "lost";

/** At most `slots` callers inside at once; waiting callers go in by `order` (lowest first),
 * then by arrival. */
export function limiter(slots: number): <T>(fn: () => Promise<T>, order?: number) => Promise<T> {
  let free = slots;
  const waiting: Array<{ order: number; go: () => void }> = [];
  return async (fn, order = Infinity) => {
    if (free > 0) free--;
    else {
      await new Promise<void>((go) => {
        let at = waiting.length;
        while (at > 0 && waiting[at - 1].order > order) at--;
        waiting.splice(at, 0, { order, go });
      });
    }
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next.go();
      else free++;
    }
  };
}

type Limit = ReturnType<typeof limiter>;

/** Jobs in hand: each decode slot has the next photos downloaded before it is free, and a
 * batch of finished photos waits for its one completing transaction meanwhile. */
export const jobsInHand = (concurrency: number) => 8 * concurrency;
/** Finished photos completed in one transaction, and jobs claimed in one call. */
export const batchSize = (concurrency: number) => 4 * concurrency;
/** A claim, a completing transaction, and the failures of the jobs in hand meanwhile. */
export const databaseConnections = (concurrency: number) => concurrency + 3;
/** A finished photo waits at most this long for its batch to fill. */
const BATCH_WAIT_MS = 200;

/** Runs fn, adding its milliseconds to phaseMs[name] when the worker keeps phase times. */
async function phase<T>(opts: WorkerOptions, name: string, fn: () => Promise<T>): Promise<T> {
  if (!opts.phaseMs) return fn();
  const started = performance.now();
  try {
    return await fn();
  } finally {
    opts.phaseMs[name] = (opts.phaseMs[name] ?? 0) + performance.now() - started;
  }
}

/** A claimed job with its item's keys (processing.claim_photo_jobs). */
export interface ClaimedJob {
  job_id: string;
  item_id: string;
  storage_key: string;
  preview_key: string;
  thumbnail_key: string;
}

export function claimPhotoJobs(sql: Sql, opts: WorkerOptions, limit: number): Promise<ClaimedJob[]> {
  return sql<ClaimedJob[]>`
    select job_id, item_id, storage_key, preview_key, thumbnail_key
      from processing.claim_photo_jobs(${opts.name}, ${limit}, ${opts.leaseSeconds})`;
}

type Complete = (job: ClaimedJob, a: PhotoAnalysis) => Promise<boolean>;

/**
 * Completes finished photos in batches: their derivatives recorded, their jobs completed and
 * their devices re-triaged in one transaction (processing.complete_photo_jobs, retriageAll).
 * A batch goes when it is full, when every job in hand is waiting in it (`inHand()`), or
 * BATCH_WAIT_MS after its first photo. Each answer says whether that job was still ours.
 */
export function completionBatches(sql: Sql, opts: WorkerOptions, size: number, inHand: () => number): Complete {
  let waiting: Array<{ job: ClaimedJob; a: PhotoAnalysis; resolve: (done: boolean) => void; reject: (err: unknown) => void }> = [];
  let flushing = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    flushing = true;
    const batch = waiting;
    waiting = [];
    try {
      const jobs = batch.map(({ job, a }) => ({
        job_id: job.job_id, width: a.width, height: a.height, mean_luma: a.meanLuma, sharpness: a.sharpness,
        dhash: a.dhash.toString(), preview_bytes: a.preview.length, thumbnail_bytes: a.thumbnail.length,
      }));
      const outcome = await phase(opts, "complete_and_retriage", () => sql.begin(async (tx) => {
        const rows = await tx<{ job_id: string; item_id: string; captured_at: Date; done: boolean }[]>`
          select job_id, item_id, captured_at, done from processing.complete_photo_jobs(${opts.name}, ${tx.json(jobs)})`;
        const done = rows.filter((r) => r.done);
        await retriageAll(tx, done.map((r) => ({ itemId: r.item_id, capturedAt: r.captured_at })));
        return new Set(done.map((r) => r.job_id));
      }));
      for (const w of batch) w.resolve(outcome.has(w.job.job_id));
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      flushing = false;
      next();
    }
  };
  const next = () => {
    if (flushing || waiting.length === 0) return;
    if (waiting.length >= size || waiting.length >= inHand()) void flush();
    else timer ??= setTimeout(() => { if (!flushing) void flush(); }, BATCH_WAIT_MS);
  };
  return (job, a) => new Promise<boolean>((resolve, reject) => {
    waiting.push({ job, a, resolve, reject });
    next();
  });
}

/** One photo: download, analyse, store its derivatives, then complete it in its batch.
 * `order`: the job's place in the claims, which the decode slots keep (claim_photo_jobs puts
 * jobs tried before first). */
export async function processJob(sql: Sql, store: Store, job: ClaimedJob, opts: WorkerOptions, cpu: Limit, complete: Complete,
  order = 0): Promise<JobOutcome> {
  try {
    const original = await phase(opts, "download", () => store.getObject(job.storage_key, opts.maxPhotoBytes));
    if (!original) throw new UnusablePhotoError(`the original ${job.storage_key} is not in storage`);
    const a = await phase(opts, "wait_and_analyse", () => cpu(() => phase(opts, "analyse", () => analysePhoto(original)), order));
    await phase(opts, "uploads", () => Promise.all([
      store.putObject(job.preview_key, a.preview, DERIVATIVE_CONTENT_TYPE),
      store.putObject(job.thumbnail_key, a.thumbnail, DERIVATIVE_CONTENT_TYPE),
    ]));
    const done = await complete(job, a);
    if (done) opts.log(`item ${job.item_id}: ${a.width}x${a.height}, luma ${a.meanLuma.toFixed(0)}, preview ${job.preview_key}`);
    return done ? "done" : "lost";
  } catch (err) {
    const permanent = err instanceof UnusablePhotoError || err instanceof ObjectTooLargeError;
    const reason = String((err as Error)?.message ?? err);
    opts.log(`job ${job.job_id} (item ${job.item_id}) failed: ${reason}`);
    if (permanent) {
      await sql`select processing.give_up_job(${job.job_id}, ${opts.name}, ${reason})`;
      return "dead";
    }
    const [{ outcome }] = await sql<{ outcome: string | null }[]>`
      select processing.fail_job(${job.job_id}, ${opts.name}, ${reason}) as outcome`;
    return outcome === "dead" ? "dead" : "retry";
  }
}

/** Deletes the derivatives of jobs that died before completing (queued in SQL first). */
export async function deleteAbandonedDerivatives(sql: Sql, store: Store): Promise<number> {
  const rows = await sql<{ object_key: string }[]>`select object_key from processing.queue_abandoned_derivatives(500)`;
  for (const { object_key } of rows) await store.deleteObject(object_key);
  if (rows.length) await sql`select processing.confirm_deleted(${rows.map((r) => r.object_key)})`;
  return rows.length;
}

export interface WorkerTally {
  done: number;
  retry: number;
  dead: number;
  lost: number;
}

/** Runs until `signal` aborts, or (once) until nothing is claimable. */
export async function runWorker(sql: Sql, store: Store, opts: WorkerOptions, signal?: AbortSignal): Promise<WorkerTally> {
  const tally: WorkerTally = { done: 0, retry: 0, dead: 0, lost: 0 };
  const [{ released }] = await sql<{ released: number }[]>`select processing.release_jobs(${opts.name}) as released`;
  if (released) opts.log(`took back ${released} job(s) this worker held before it stopped`);
  const running = new Set<Promise<void>>();
  const cpu = limiter(opts.concurrency);
  const inHand = jobsInHand(opts.concurrency);
  const batch = batchSize(opts.concurrency);
  const complete = completionBatches(sql, opts, batch, () => running.size);
  let drained = false;
  let retainedAt = -Infinity;
  let claimed = 0;
  while (!signal?.aborted) {
    // claimed a batch at a time: when a batch's worth of slots is free, or none is running
    const free = inHand - running.size;
    const jobs = free >= Math.min(batch, inHand) || running.size === 0
      ? await phase(opts, "claim", () => claimPhotoJobs(sql, opts, free))
      : [];
    for (const job of jobs) {
      const p: Promise<void> = processJob(sql, store, job, opts, cpu, complete, claimed++)
        .then((outcome) => { tally[outcome]++; })
        .catch((err) => { opts.log(`job ${job.job_id}: ${String(err)}`); tally.retry++; }) // the lease brings it back
        .finally(() => running.delete(p));
      running.add(p);
    }
    if (jobs.length === 0 && running.size === 0) {
      await deleteAbandonedDerivatives(sql, store).catch((err) => opts.log(`abandoned derivatives: ${String(err)}`));
      if (opts.once || performance.now() - retainedAt >= (opts.retentionEveryMs ?? 600_000)) {
        retainedAt = performance.now();
        await phase(opts, "retention", () => applyRetention(sql, store))
          .then(({ deleted }) => { if (deleted) opts.log(`retention: deleted ${deleted} object(s)`); })
          .catch((err) => opts.log(`retention: ${String(err)}`));
      }
      if (opts.once) {
        drained = true;
        break;
      }
      await sleep(opts.idleMs, signal);
    } else if (running.size >= inHand || jobs.length === 0) {
      await Promise.race(running);
    }
  }
  await Promise.all(running);
  if (!drained) opts.log("stopped");
  return tally;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
