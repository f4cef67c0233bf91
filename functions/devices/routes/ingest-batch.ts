// POST /devices/ingest-batch (device token): up to MAX_BATCH_ITEMS ingests in one SQL call,
// each item what POST /devices/ingest would take and its result that route's status and
// body, with the same order of work (ingest-items.ts).
import { callDeviceApi } from "../../_shared/db.ts";
import { ApiError, jsonResponse } from "../../_shared/errors.ts";
import { type ItemResult, itemError, MAX_BATCH_ITEMS, rowError } from "../batch.ts";
import { describe, ingestItems, type IngestOutcome } from "../ingest-items.ts";
import { batchOf, defineRoute } from "../route.ts";
import { checkIngestRequest, IngestRequest } from "./ingest.ts";

type Row = { idx: number; status: "queued" | "duplicate" | "inspect" | "error"; item_id: string | null; task_id: string | null;
  error: Parameters<typeof rowError>[0] | null };

export const ingestBatch = defineRoute({
  method: "POST", path: "/devices/ingest-batch", auth: "device", body: batchOf(IngestRequest, checkIngestRequest),
  limits: ["requestsPerMinute"],
  summary: `up to ${MAX_BATCH_ITEMS} ingests in one call (each item as ingest)`,
  answers: "200 `{ results: [{ status, body }…] }`: per item, what ingest would answer",
  handler: async ({ auth, body: parsed }, ctx) => {
    const { tokenHash } = auth;
    const c = ctx.config;
    const valid = parsed.flatMap((p) => p.ok ? [{ index: p.index, item: p.value }] : []);
    const outcomes = await ingestItems(ctx, tokenHash, valid, async (pending, limitsTaken) => {
      const rows = await callDeviceApi(() =>
        ctx.sql<Row[]>`
          select * from device_api.ingest_many(
            p_token_hash => ${tokenHash},
            p_items => ${ctx.sql.json(pending.map((p) => ({ ...p.item, object: p.object === null ? null : describe(p.object) })) as never)},
            p_max_bytes => ${c.maxPhotoBytes}, p_store_verifies_sha256 => ${ctx.storage.verifiesSha256},
            p_per_device_per_minute => ${c.requestsPerMinute.device}, p_per_user_per_minute => ${c.requestsPerMinute.account},
            p_limits_taken => ${limitsTaken}, p_storage_bucket => ${ctx.storage.databaseBucket ?? null})`
      );
      return rows.map((r): IngestOutcome =>
        r.status === "error" ? { idx: r.idx, status: "error", error: rowError(r.error!) } : r as IngestOutcome
      );
    });
    if (valid.length > 0) auth.accepted();
    const results: ItemResult[] = parsed.map((p) => {
      if (!p.ok) return p.result;
      const r = outcomes.get(p.index)!;
      return r instanceof ApiError ? itemError(r) : r;
    });
    return jsonResponse({ results });
  },
});
