// Retention: processing.apply_retention decides what goes (per user's policy) and queues
// the keys in one transaction; this deletes each object and confirms. A crash in between
// leaves the keys queued, and the next run deletes them.
import type { Sql } from "../../functions/_shared/db.ts";
import type { StorageDriver } from "../../functions/_shared/storage/driver.ts";

export async function applyRetention(
  sql: Sql,
  store: Pick<StorageDriver, "deleteObject">,
  opts: { now?: Date; batch?: number } = {},
): Promise<{ deleted: number }> {
  const batch = opts.batch ?? 500;
  let deleted = 0;
  for (;;) {
    const rows = await sql<{ object_key: string }[]>`
      select object_key from processing.apply_retention(p_now => ${opts.now ?? new Date()}, p_limit => ${batch})`;
    for (const { object_key } of rows) await store.deleteObject(object_key);
    if (rows.length) await sql`select processing.confirm_deleted(p_object_keys => ${rows.map((r) => r.object_key)})`;
    deleted += rows.length;
    if (rows.length === 0) return { deleted };
  }
}
