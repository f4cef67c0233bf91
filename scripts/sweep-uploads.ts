// `npm run sweep`: one sweep of never-ingested uploads, with the devices function's own
// settings from the environment (SUPABASE_DB_URL, the storage driver's variables,
// DEVICE_RESERVATION_TTL_SECONDS). Schedule it (cron, a worker loop) every few minutes.
import { loadConfig } from "../functions/_shared/config.ts";
import { connectDatabase } from "../functions/_shared/db.ts";
import { createStorageDriver } from "../functions/_shared/storage/index.ts";
import { sweepUploads } from "../functions/_shared/storage/sweep.ts";

const config = loadConfig(process.env);
const sql = connectDatabase(config.dbUrl, 1);
try {
  const { deleted } = await sweepUploads(sql, createStorageDriver(config), { ttlSeconds: config.reservationTtlSeconds });
  console.log(JSON.stringify({ swept_objects: deleted }));
} finally {
  await sql.end();
}
