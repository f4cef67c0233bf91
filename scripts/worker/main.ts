// The photo worker (`lifelog-devices worker [--once]`; run.ts under tsx) with the devices function's own
// settings from the environment (SUPABASE_URL, SUPABASE_DB_URL, the storage driver's
// variables). Stops cleanly on SIGINT/SIGTERM after the jobs in hand.
import { hostname } from "node:os";
import { loadStorageConfig } from "../../functions/_shared/config.ts";
import { connectDatabase } from "../../functions/_shared/db.ts";
import { createStorageDriver } from "../../functions/_shared/storage/index.ts";
import { createNodeS3Store } from "../storage/node-s3-store.ts";
import { gcTime } from "./gc-time.ts";
import { threadCpuSeconds, threadCpuSince } from "./thread-cpu.ts";
import { databaseConnections, runWorker, type WorkerOptions } from "./worker.ts";

export const WORKER_OPTIONS = {
  once: { type: "boolean" },
  name: { type: "string" },
  concurrency: { type: "string" },
  "lease-seconds": { type: "string" },
} as const;

export function workerOptions(values: { once?: boolean; name?: string; concurrency?: string; "lease-seconds"?: string },
  maxPhotoBytes: number, log: (line: string) => void): WorkerOptions {
  const concurrency = Number(values.concurrency ?? 2);
  const leaseSeconds = Number(values["lease-seconds"] ?? 300);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error("--concurrency must be 1..64");
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 30) throw new Error("--lease-seconds must be an integer of at least 30");
  return {
    name: values.name ?? `photo-worker@${hostname()}`,
    concurrency,
    leaseSeconds,
    maxPhotoBytes,
    idleMs: 1000,
    once: values.once ?? false,
    log,
  };
}

export type WorkerValues = Parameters<typeof workerOptions>[0];

/** The worker's store: with the s3 driver its own Node client, otherwise the shared driver. */
export function createWorkerStore(config: ReturnType<typeof loadStorageConfig>) {
  return config.storage.driver === "s3" ? createNodeS3Store(config.storage) : { ...createStorageDriver(config), close() {} };
}

/** A running worker with its own database pool: `stop()` ends it after the jobs in hand. */
export function startPhotoWorker(values: WorkerValues, env: Record<string, string | undefined>, log: (line: string) => void) {
  const config = loadStorageConfig(env);
  const opts = { ...workerOptions(values, config.maxPhotoBytes, log), phaseMs: {} as Record<string, number> };
  const sql = connectDatabase(config.dbUrl, databaseConnections(opts.concurrency));
  const abort = new AbortController();
  log(`${opts.name}: ${opts.concurrency} at a time, lease ${opts.leaseSeconds} s, storage ${config.storage.driver}`);
  const store = createWorkerStore(config);
  const done = runWorker(sql, store, opts, abort.signal).finally(() => { store.close(); return sql.end(); });
  return { done, phaseMs: opts.phaseMs, stop: async () => { abort.abort(); await done.catch(() => {}); } };
}

export async function workerMain(values: WorkerValues, env: Record<string, string | undefined>): Promise<void> {
  const log = (line: string) => process.stderr.write(`worker: ${line}\n`);
  const started = performance.now();
  const cpuAtStart = process.cpuUsage(); // after the imports: the run's CPU, not tsx's compiling
  const gc = gcTime();
  const threadsAtStart = threadCpuSeconds();
  const worker = startPhotoWorker(values, env, log);
  const onSignal = () => void worker.stop();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const tally = await worker.done;
    const usage = process.resourceUsage();
    const cpu = process.cpuUsage(cpuAtStart);
    const phaseMs = Object.fromEntries(Object.entries(worker.phaseMs).map(([k, v]) => [k, Math.round(v)]));
    process.stdout.write(JSON.stringify({
      ...tally, elapsed_s: +((performance.now() - started) / 1000).toFixed(3), peak_rss_mb: Math.round(usage.maxRSS / 1024),
      cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(2), phase_ms: phaseMs, gc_ms: gc.read(), thread_cpu_s: threadCpuSince(threadsAtStart),
    }) + "\n");
  } finally {
    gc.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
