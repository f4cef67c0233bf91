// POST /devices/ingest (device token): record the uploaded photo and queue its
// processing, exactly once per (device, seq). The order of work (which SQL calls, which
// storage reads) is ingest-items.ts's, shared with /devices/ingest-batch; in the common
// case (a drain: upload-url, PUT, ingest) it is one 16-byte storage read and one SQL call.
import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { ApiError, jsonResponse } from "../../_shared/errors.ts";
import type { Config } from "../../_shared/config.ts";
import { describe, ingestItems, type IngestOutcome } from "../ingest-items.ts";
import { ObjectKey } from "../object-key.ts";
import { defineRoute } from "../route.ts";
import { assertPhotoContentType, CapturedAt, Seq } from "../photo.ts";

const MAX_METADATA_BYTES = 4096;

export const IngestRequest = z.object({
  object_key: ObjectKey,
  captured_at: CapturedAt,
  seq: Seq,
  content_type: z.string().max(100).optional(),
  ntp_synced: z.boolean().default(false),
  metadata: z.record(z.string(), z.unknown())
    .refine((m) => JSON.stringify(m).length <= MAX_METADATA_BYTES, `must be at most ${MAX_METADATA_BYTES} bytes of JSON`)
    .optional(),
});
export type IngestRequest = z.infer<typeof IngestRequest>;

/** The checks the route makes before the database (also each item of ingest-batch). */
export function checkIngestRequest(body: IngestRequest, _config?: Config): IngestRequest {
  if (body.content_type !== undefined) assertPhotoContentType(body.content_type);
  return body;
}

type IngestRow = { status: "queued" | "duplicate" | "inspect"; item_id: string | null; task_id: string | null };

export const ingest = defineRoute({
  method: "POST", path: "/devices/ingest", auth: "device", body: IngestRequest, limits: ["requestsPerMinute"],
  summary: "record the uploaded photo and queue its processing, exactly once per (device, seq)",
  answers: '201 `{ status: "queued", item_id, task_id }`, or 200 `{ status: "duplicate", item_id }` on a retry',
  handler: async ({ auth, body: request }, ctx) => {
    const { tokenHash } = auth;
    const body = checkIngestRequest(request);
    const c = ctx.config;
    const results = await ingestItems(ctx, tokenHash, [{ index: 0, item: body }], async ([p], limitsTaken) => {
      try {
        const [row] = await callDeviceApi(() =>
          ctx.sql<IngestRow[]>`
            select * from device_api.ingest(
              p_token_hash => ${tokenHash}, p_seq => ${body.seq}, p_object_key => ${body.object_key},
              p_captured_at => ${body.captured_at}::timestamptz, p_content_type => ${body.content_type ?? null},
              p_ntp_synced => ${body.ntp_synced}, p_metadata => ${ctx.sql.json((body.metadata ?? {}) as never)},
              p_object => ${p.object === null ? null : ctx.sql.json(describe(p.object) as never)},
              p_max_bytes => ${c.maxPhotoBytes}, p_store_verifies_sha256 => ${ctx.storage.verifiesSha256},
              p_per_device_per_minute => ${c.requestsPerMinute.device}, p_per_user_per_minute => ${c.requestsPerMinute.account},
              p_limits_taken => ${limitsTaken}, p_storage_bucket => ${ctx.storage.databaseBucket ?? null})`
        );
        return [{ idx: 0, ...row }];
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        return [{ idx: 0, status: "error", error: err } satisfies IngestOutcome];
      }
    });
    const result = results.get(0)!;
    if (result instanceof ApiError) throw result;
    auth.accepted();
    return jsonResponse(result.body, result.status);
  },
});
