// For tests of the limits on their own stack: the function's defaults, and moving every
// rate-limit window back as if time had passed.
import type postgres from "postgres";
import { loadConfig } from "../../functions/_shared/config.ts";

export const defaults = loadConfig({
  SUPABASE_URL: "http://x", SUPABASE_DB_URL: "postgres://x", DEVICE_TOKEN_PEPPER: "p".repeat(32),
  DEVICE_STORAGE_DRIVER: "s3", S3_ENDPOINT: "http://s3", S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s",
});

/** As if `seconds` had passed for every rate-limit window (each slot moves back). Two steps,
 *  through a far-away time, so no row takes a start another still holds (primary key). */
export async function letTimePass(sql: postgres.Sql, seconds: number): Promise<void> {
  await sql`update device_api.rate_limit_windows set window_start = window_start - interval '100 years'`;
  await sql`update device_api.rate_limit_windows
               set window_start = window_start + interval '100 years' - make_interval(secs => ${seconds})`;
}
