// POST /devices/ingest-batch (device token): up to MAX_BATCH_ITEMS ingests in one SQL call,
// each item what POST /devices/ingest would take and its result that route's status and
// body, with the same order of work (ingest.ts): storage is read before the call only
// for a token the database accepted lately; otherwise the call comes first and the items
// it answers 'inspect' are read and judged in a second call.
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import type { StoredObject } from "../../_shared/storage/driver.ts";
import { type ItemResult, itemError, MAX_BATCH_ITEMS, rowError } from "../batch.ts";
import { batchOf, defineRoute } from "../route.ts";
import { checkIngestRequest, describe, ingestedKey, IngestRequest, type IngestRow, REFUSED_OBJECT_CODES } from "./ingest.ts";

// Storage reads of one batch in flight at once.
const STORAGE_PARALLELISM = 8;

type Row = Omit<IngestRow, "status"> & { idx: number; status: IngestRow["status"] | "error"; error: Parameters<typeof rowError>[0] | null };

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

export const ingestBatch = defineRoute({
  method: "POST", path: "/devices/ingest-batch", auth: "device", body: batchOf(IngestRequest, checkIngestRequest),
  limits: ["requestsPerMinute"],
  summary: `up to ${MAX_BATCH_ITEMS} ingests in one call (each item as ingest)`,
  answers: "200 `{ results: [{ status, body }…] }`: per item, what ingest would answer",
  handler: async ({ auth, body: parsed }, ctx) => {
    const { tokenHash } = auth;
    const results: ItemResult[] = parsed.map((p) => p.ok ? { status: 0, body: null } : p.result);
    type Pending = { index: number; item: IngestRequest; object: StoredObject | null };
    const c = ctx.config;

    const call = async (pending: Pending[], limitsTaken: boolean) =>
      await callDeviceApi(() =>
        ctx.sql<Row[]>`
          select * from device_api.ingest_many(
            p_token_hash => ${tokenHash},
            p_items => ${ctx.sql.json(pending.map((p) => ({ ...p.item, object: p.object === null ? null : describe(p.object) })) as never)},
            p_max_bytes => ${c.maxPhotoBytes}, p_store_verifies_sha256 => ${ctx.storage.verifiesSha256},
            p_per_device_per_minute => ${c.requestsPerMinute.device}, p_per_user_per_minute => ${c.requestsPerMinute.account},
            p_limits_taken => ${limitsTaken}, p_storage_bucket => ${ctx.storage.databaseBucket ?? null})`
      );
    // Reads storage for each; an item storage fails for gets its error and leaves the batch.
    const inspect = async (pending: Pending[]) =>
      (await mapLimited(pending, STORAGE_PARALLELISM, async (p): Promise<Pending | null> => {
        try {
          return { ...p, object: await ctx.storage.inspectObject(p.item.object_key) };
        } catch (err) {
          results[p.index] = itemError(err);
          return null;
        }
      })).filter((p): p is Pending => p !== null);
    // Records each row's answer; returns the items the database wants storage's answer for.
    const settle = async (pending: Pending[], rows: Row[]) => {
      const again: Pending[] = [];
      await Promise.all(rows.map(async (row) => {
        const p = pending[row.idx];
        if (row.status === "inspect") return again.push(p);
        if (row.status === "error") {
          const err = rowError(row.error!);
          if (p.object !== null || ctx.storage.databaseBucket !== undefined) {
            // Best effort, as in ingest.ts: the sweeper removes what is left.
            if (REFUSED_OBJECT_CODES.has(err.code)) await ctx.storage.deleteObject(p.item.object_key).catch(() => {});
          }
          results[p.index] = itemError(err);
          return;
        }
        ctx.recentTokens.add(ingestedKey(p.item.object_key));
        results[p.index] = row.status === "duplicate"
          ? { status: 200, body: { status: "duplicate", item_id: row.item_id } }
          : { status: 201, body: { status: "queued", item_id: row.item_id, task_id: row.task_id } };
      }));
      return again;
    };

    let pending: Pending[] = parsed.flatMap((p) => p.ok ? [{ index: p.index, item: p.value, object: null }] : []);
    if (pending.length > 0) {
      const readFirst = ctx.storage.databaseBucket === undefined && ctx.recentTokens.has(tokenHash);
      if (readFirst) {
        const known = pending.filter((p) => ctx.recentTokens.has(ingestedKey(p.item.object_key)));
        pending = [...known, ...await inspect(pending.filter((p) => !known.includes(p)))];
      }
      let again = pending.length > 0 ? await settle(pending, await call(pending, false)) : [];
      if (again.length > 0) {
        again = await inspect(again);
        if (again.length > 0) await settle(again, await call(again, true));
      }
      auth.accepted();
    }
    return jsonResponse({ results });
  },
});
