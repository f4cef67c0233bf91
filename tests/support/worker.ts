// The photo worker as a child process against the test stack, and what the bucket and
// tables hold of its work.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { LOCAL_S3_CREDENTIALS } from "../../scripts/stack/object-store.ts";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";
import { sql, stack } from "./stack.ts";

export const workerEnv = (): Record<string, string> => ({
  ...process.env as Record<string, string>,
  SUPABASE_URL: stack.supabase_url,
  SUPABASE_DB_URL: stack.db_url,
  DEVICE_STORAGE_DRIVER: "s3",
  DEVICE_STORAGE_BUCKET: stack.storage.bucket,
  S3_ENDPOINT: stack.storage.endpoint,
  S3_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
  S3_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
});

export function startWorker(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts/worker/main.ts"), ...args], {
    cwd: PROJECT_ROOT, env: workerEnv(), stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

/** Every object under derivatives/ in the bucket, read from s3rver itself (ListObjectsV2). */
export async function derivativeObjects(): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  let token: string | undefined;
  do {
    const q = new URLSearchParams({ "list-type": "2", prefix: "derivatives/", ...(token ? { "continuation-token": token } : {}) });
    const res = await fetch(`${stack.storage.backend_endpoint}/${stack.storage.bucket}?${q}`);
    const xml = await res.text();
    for (const m of xml.matchAll(/<Contents>.*?<Key>(.*?)<\/Key>.*?<Size>(\d+)<\/Size>.*?<\/Contents>/gs)) found.set(m[1], Number(m[2]));
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? /<NextContinuationToken>(.*?)<\/NextContinuationToken>/.exec(xml)?.[1] : undefined;
  } while (token);
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
