// "Nothing changed": a checksum of every table a route may write and of every file of
// the object store, to compare before and after refused requests.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createS3Driver } from "../../functions/_shared/storage/s3.ts";
import { LOCAL_S3_CREDENTIALS, storeFiles } from "../../scripts/stack/object-store.ts";
import { sql, stack } from "./stack.ts";

// Every table of public, device_api and processing, and auth.users. Columns that count
// refused attempts on purpose (the guessing limits) and the time a device was last seen are
// left out; so is the rate-limit table, which counts requests by design.
const SKIPPED_COLUMNS: Record<string, string[]> = {
  "public.devices": ["last_seen_at"],
  "public.device_pairing_codes": ["attempts", "failed_guesses", "failed_sources"],
};
const SKIPPED_TABLES = new Set(["device_api.rate_limit_windows"]);

export async function tableChecksums(): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }[]>`
    select format('%I.%I', schemaname, tablename) as name from pg_tables
     where schemaname in ('public', 'device_api', 'processing') or (schemaname, tablename) = ('auth', 'users') order by 1`;
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    if (SKIPPED_TABLES.has(name)) continue;
    const [row] = await sql.unsafe(
      `select count(*)::int as n, md5(coalesce(string_agg(r, '|' order by r), '')) as h
         from (select (to_jsonb(t) - $1::text[])::text as r from ${name} t) x`,
      [SKIPPED_COLUMNS[name] ?? []],
    );
    out[name] = `${row.n}:${row.h}`;
  }
  return out;
}

/** SHA-256 over every file (path and bytes) s3rver keeps, metadata included. */
export async function objectStoreChecksum(): Promise<string> {
  const root = join(stack.workDir, "objects");
  const paths: string[] = [];
  for await (const p of storeFiles(root)) paths.push(p);
  const h = createHash("sha256");
  for (const p of paths.sort()) h.update(p.slice(root.length)).update("\0").update(await readFile(p)).update("\0");
  return `${paths.length}:${h.digest("hex")}`;
}

/** The function's s3 driver, pointed at the stack's store (behind its gate). */
export function stackStorage() {
  return createS3Driver({
    endpoint: stack.storage.endpoint, region: "us-east-1", bucket: stack.storage.bucket,
    accessKeyId: LOCAL_S3_CREDENTIALS.accessKeyId, secretAccessKey: LOCAL_S3_CREDENTIALS.secretAccessKey,
    uploadTtlSeconds: 300,
  });
}
