// POST /devices/ingest (device token): record the uploaded photo and queue its
// processing, exactly once per (device, seq), in one SQL call in the common case:
// - supabase driver: the SQL call judges the object from storage.objects; storage is not asked.
// - s3 driver, a token the database accepted lately in this isolate (a drain's upload-url
//   before it): one 16-byte storage read, then one SQL call that checks the token, the
//   limits and the reservation again and judges what storage holds.
// - otherwise (an unknown token, a key this isolate saw ingested): the SQL call first;
//   storage is asked only if the SQL answers 'inspect', then a second call judges. So a
//   forged token never reaches storage, and a duplicate of a recent ingest never does either.
// Bytes storage holds that are refused are deleted.
import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { ApiError, jsonResponse } from "../../_shared/errors.ts";
import { looksLikeJpeg, type StoredObject } from "../../_shared/storage/driver.ts";
import type { Config } from "../../_shared/config.ts";
import { defineRoute } from "../route.ts";
import { assertPhotoContentType, CapturedAt, Seq } from "../photo.ts";

const MAX_METADATA_BYTES = 4096;

export const IngestRequest = z.object({
  object_key: z.string().min(1).max(512).startsWith("devices/", "must be a key from /devices/upload-url")
    .refine((k) => !k.split("/").some((s) => s === ".." || s === "."), "must not contain '.' or '..' segments"),
  captured_at: CapturedAt,
  seq: Seq,
  content_type: z.string().max(100).optional(),
  ntp_synced: z.boolean().default(false),
  metadata: z.record(z.string(), z.unknown())
    .refine((m) => JSON.stringify(m).length <= MAX_METADATA_BYTES, `must be at most ${MAX_METADATA_BYTES} bytes of JSON`)
    .optional(),
});
export type IngestRequest = z.infer<typeof IngestRequest>;

/** Refusals of stored bytes: the object is deleted, the device may upload again. */
export const REFUSED_OBJECT_CODES = new Set(["photo_too_large", "photo_size_mismatch", "photo_not_jpeg"]);

/** The checks the route makes before the database (also each item of ingest-batch). */
export function checkIngestRequest(body: IngestRequest, _config?: Config): IngestRequest {
  if (body.content_type !== undefined) assertPhotoContentType(body.content_type);
  return body;
}

export type IngestRow = { status: "queued" | "duplicate" | "inspect"; item_id: string | null; task_id: string | null };

export const ingest = defineRoute({
  method: "POST", path: "/devices/ingest", auth: "device", body: IngestRequest, limits: ["requestsPerMinute"],
  summary: "record the uploaded photo and queue its processing, exactly once per (device, seq)",
  answers: '201 `{ status: "queued", item_id, task_id }`, or 200 `{ status: "duplicate", item_id }` on a retry',
  handler: async ({ auth, body: request }, ctx) => {
    const { tokenHash } = auth;
    const body = checkIngestRequest(request);
    const c = ctx.config;
    const call = (object: StoredObject | null, limitsTaken: boolean) =>
      callDeviceApi(() =>
        ctx.sql<IngestRow[]>`
          select * from device_api.ingest(
            p_token_hash => ${tokenHash}, p_seq => ${body.seq}, p_object_key => ${body.object_key},
            p_captured_at => ${body.captured_at}::timestamptz, p_content_type => ${body.content_type ?? null},
            p_ntp_synced => ${body.ntp_synced}, p_metadata => ${ctx.sql.json((body.metadata ?? {}) as never)},
            p_object => ${object === null ? null : ctx.sql.json(describe(object) as never)},
            p_max_bytes => ${c.maxPhotoBytes}, p_store_verifies_sha256 => ${ctx.storage.verifiesSha256},
            p_per_device_per_minute => ${c.requestsPerMinute.device}, p_per_user_per_minute => ${c.requestsPerMinute.account},
            p_limits_taken => ${limitsTaken}, p_storage_bucket => ${ctx.storage.databaseBucket ?? null})`
      ).then((rows) => rows[0]);
    // null with the supabase driver: the SQL call reads storage.objects itself.
    const judge = async (object: StoredObject | null, limitsTaken: boolean) => {
      try {
        return await call(object, limitsTaken);
      } catch (err) {
        if (err instanceof ApiError && REFUSED_OBJECT_CODES.has(err.code)) {
          // Best effort: if this fails, the sweeper removes the object with its reservation.
          await ctx.storage.deleteObject(body.object_key).catch(() => {});
        }
        throw err;
      }
    };

    let row: IngestRow;
    if (ctx.storage.databaseBucket !== undefined) {
      row = await judge(null, false);
    } else if (ctx.recentTokens.has(tokenHash) && !ctx.recentTokens.has(ingestedKey(body.object_key))) {
      row = await judge(await ctx.storage.inspectObject(body.object_key), false);
    } else {
      row = await call(null, false);
      if (row.status === "inspect") row = await judge(await ctx.storage.inspectObject(body.object_key), true);
    }
    auth.accepted();
    ctx.recentTokens.add(ingestedKey(body.object_key));
    if (row.status === "duplicate") {
      return jsonResponse({ status: "duplicate", item_id: row.item_id });
    }
    return jsonResponse({ status: "queued", item_id: row.item_id, task_id: row.task_id }, 201);
  },
});

/** The recent-set entry for an object key this isolate saw ingested. */
export const ingestedKey = (objectKey: string) => `ingested:${objectKey}`;

export function describe(object: StoredObject): Record<string, unknown> {
  return object.exists ? { exists: true, size: object.size, jpeg: looksLikeJpeg(object.head) } : { exists: false };
}
