// The sweeper: uploads that were reserved but never ingested (older than the TTL, or of a
// revoked device) lose their reservation and their object once their last upload URL has
// expired. SQL picks them (processing.sweep_uploads, which queues their keys), this
// deletes each object, then confirms; a crash in between leaves the keys queued for the
// next run. Runs from a worker or a schedule with the function's storage settings.
import type { Sql } from "../db.ts";
import type { StorageDriver } from "./driver.ts";

export async function sweepUploads(
  sql: Sql,
  storage: StorageDriver,
  opts: { ttlSeconds: number; batch?: number },
): Promise<{ deleted: number }> {
  const batch = opts.batch ?? 500;
  let deleted = 0;
  for (;;) {
    const rows = await sql<{ object_key: string }[]>`
      select object_key from processing.sweep_uploads(p_ttl_seconds => ${opts.ttlSeconds}, p_limit => ${batch})`;
    const done: string[] = [];
    for (const { object_key } of rows) {
      await storage.deleteObject(object_key);
      done.push(object_key);
    }
    if (done.length) await sql`select processing.confirm_deleted(p_object_keys => ${done})`;
    deleted += done.length;
    if (rows.length < batch) return { deleted };
  }
}
