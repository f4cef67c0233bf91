// The photo worker as a child process against the test stack, and what the bucket and
// tables hold of its work.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { startWorker as spawnWorker } from "../../scripts/worker/spawn.ts";
import { localWorkerEnv } from "../../scripts/worker/stack-env.ts";
import { sql, stack } from "./stack.ts";

export const workerEnv = (): Record<string, string> => ({ ...process.env as Record<string, string>, ...localWorkerEnv(stack) });

export const startWorker = (args: string[]) => spawnWorker(args, workerEnv());

/** Every object under derivatives/ with its size, read from the store's folder on disk (s3rver
 * keeps `<key>._S3rver_object` per object; its listing answers 500 on large trees). */
export async function derivativeObjects(): Promise<Map<string, number>> {
  const root = join(stack.workDir, "objects", stack.storage.bucket);
  const found = new Map<string, number>();
  const entries = await readdir(join(root, "derivatives"), { recursive: true }).catch(() => [] as string[]);
  for (const entry of entries) {
    const m = /^(.*)\._S3rver_object$/.exec(entry);
    if (m) found.set(`derivatives/${m[1]}`, (await stat(join(root, "derivatives", entry))).size);
  }
  return found;
}

/** The derivative rows' keys and sizes, as the bucket should hold them. */
export async function derivativeRows(): Promise<Map<string, number>> {
  const rows = await sql<{ preview_key: string; preview_bytes: number; thumbnail_key: string; thumbnail_bytes: number }[]>`
    select preview_key, preview_bytes, thumbnail_key, thumbnail_bytes from public.photo_derivatives`;
  const expected = new Map<string, number>();
  for (const r of rows) {
    expected.set(r.preview_key, r.preview_bytes);
    expected.set(r.thumbnail_key, r.thumbnail_bytes);
  }
  return expected;
}
