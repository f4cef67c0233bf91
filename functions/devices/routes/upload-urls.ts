// POST /devices/upload-urls (device token): upload targets for up to MAX_BATCH_ITEMS seqs
// in one SQL call. Each item is what POST /devices/upload-url would take, and its result
// is that route's status and body.
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { type ItemResult, itemError, MAX_BATCH_ITEMS, rowError } from "../batch.ts";
import { batchOf, defineRoute } from "../route.ts";
import { checkUploadUrlRequest, type Reservation, uploadTargetBody, UploadUrlRequest } from "./upload-url.ts";

export const uploadUrls = defineRoute({
  method: "POST", path: "/devices/upload-urls", auth: "device", body: batchOf(UploadUrlRequest, checkUploadUrlRequest),
  limits: ["requestsPerMinute", "maxOutstandingUploads"],
  summary: `upload targets for up to ${MAX_BATCH_ITEMS} seqs in one call (each item as upload-url)`,
  answers: "200 `{ results: [{ status, body }…] }`: per item, what upload-url would answer",
  handler: async ({ auth, body: parsed }, ctx) => {
    const { tokenHash } = auth;
    const valid = parsed.flatMap((p) => p.ok ? [{ index: p.index, item: p.value }] : []);
    const results: ItemResult[] = parsed.map((p) => p.ok ? { status: 0, body: null } : p.result);
    if (valid.length > 0) {
      const c = ctx.config;
      const rows = await callDeviceApi(() =>
        ctx.sql<(Reservation & { idx: number; error: Parameters<typeof rowError>[0] | null })[]>`
          select * from device_api.reserve_uploads(
            p_token_hash => ${tokenHash}, p_items => ${ctx.sql.json(valid.map((v) => v.item) as never)},
            p_url_ttl_seconds => ${c.uploadTtlSeconds}, p_max_outstanding => ${c.maxOutstandingUploads},
            p_reservation_ttl_seconds => ${c.reservationTtlSeconds},
            p_per_device_per_minute => ${c.requestsPerMinute.device}, p_per_user_per_minute => ${c.requestsPerMinute.account})`
      );
      auth.accepted();
      await Promise.all(rows.map(async (row) => {
        const { index, item } = valid[row.idx];
        try {
          if (row.error) throw rowError(row.error);
          results[index] = { status: 200, body: await uploadTargetBody(ctx, item, row) };
        } catch (err) {
          results[index] = itemError(err);
        }
      }));
    }
    return jsonResponse({ results });
  },
});
