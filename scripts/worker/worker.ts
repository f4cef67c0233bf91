// The photo worker: claims process_photo jobs, makes and stores each photo's derivatives,
// records them while completing the job (one transaction), and goes on after any failure.
// The database and the store are passed in; the image work is analyse.ts.
import type { Sql } from "../../functions/_shared/db.ts";
import { type ObjectStore, ObjectTooLargeError, type StorageDriver } from "../../functions/_shared/storage/driver.ts";

type Store = ObjectStore & Pick<StorageDriver, "deleteObject">;
import { analysePhoto, DERIVATIVE_CONTENT_TYPE, UnusablePhotoError } from "./analyse.ts";
import { applyRetention } from "./retention.ts";
import { retriageFrom } from "./retriage.ts";

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

interface Job {
  id: string;
  item_id: string;
}

/** At most `slots` callers inside at once. */
export function limiter(slots: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let free = slots;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

type Limit = ReturnType<typeof limiter>;

/** A job spends about twice as long in the database and the store (claim, begin, download,
 * two uploads, complete) as in its decode, so each decode slot needs three more jobs in
 * flight for the next photo to be downloaded before the slot is free. */
export const jobsInHand = (concurrency: number) => 4 * concurrency;

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

export async function processJob(sql: Sql, store: Store, job: Job, opts: WorkerOptions, cpu: Limit = limiter(1)): Promise<JobOutcome> {
  const [item] = await phase(opts, "begin_photo_job", () => sql<{ storage_key: string; preview_key: string; thumbnail_key: string }[]>`
    select storage_key, preview_key, thumbnail_key from processing.begin_photo_job(${job.id}, ${opts.name})`);
  if (!item) return "lost";
  try {
    const original = await phase(opts, "download", () => store.getObject(item.storage_key, opts.maxPhotoBytes));
    if (!original) throw new UnusablePhotoError(`the original ${item.storage_key} is not in storage`);
    const a = await phase(opts, "wait_and_analyse", () => cpu(() => phase(opts, "analyse", () => analysePhoto(original))));
    await phase(opts, "uploads", () => Promise.all([
      store.putObject(item.preview_key, a.preview, DERIVATIVE_CONTENT_TYPE),
      store.putObject(item.thumbnail_key, a.thumbnail, DERIVATIVE_CONTENT_TYPE),
    ]));
    // the derivatives and the device's triage from this photo on, in one transaction
    const done = await phase(opts, "complete_and_retriage", () => sql.begin(async (tx) => {
      const [{ done }] = await tx<{ done: boolean }[]>`
        select processing.complete_photo_job(${job.id}, ${opts.name}, ${a.width}, ${a.height}, ${a.meanLuma},
          ${a.sharpness}, ${a.dhash.toString()}, ${a.preview.length}, ${a.thumbnail.length}) as done`;
      if (done) await retriageFrom(tx, job.item_id);
      return done;
    }));
    if (done) opts.log(`item ${job.item_id}: ${a.width}x${a.height}, luma ${a.meanLuma.toFixed(0)}, preview ${item.preview_key}`);
    return done ? "done" : "lost";
  } catch (err) {
    const permanent = err instanceof UnusablePhotoError || err instanceof ObjectTooLargeError;
    const reason = String((err as Error)?.message ?? err);
    opts.log(`job ${job.id} (item ${job.item_id}) failed: ${reason}`);
    if (permanent) {
      await sql`select processing.give_up_job(${job.id}, ${opts.name}, ${reason})`;
      return "dead";
    }
    const [{ outcome }] = await sql<{ outcome: string | null }[]>`
      select processing.fail_job(${job.id}, ${opts.name}, ${reason}) as outcome`;
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
  let drained = false;
  let retainedAt = -Infinity;
  while (!signal?.aborted) {
    const free = inHand - running.size;
    const jobs = free > 0
      ? await phase(opts, "claim", () => sql<Job[]>`select id, item_id from processing.claim_jobs(${opts.name}, ${free}, ${opts.leaseSeconds})`)
      : [];
    for (const job of jobs) {
      const p: Promise<void> = processJob(sql, store, job, opts, cpu)
        .then((outcome) => { tally[outcome]++; })
        .catch((err) => { opts.log(`job ${job.id}: ${String(err)}`); tally.retry++; }) // the lease brings it back
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
