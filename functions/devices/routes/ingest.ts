// POST /devices/ingest (device token): record the uploaded photo and queue its
// processing, exactly once per (device, seq).
import { z } from "zod";
import { deviceTokenHashFrom } from "../../_shared/auth/device-token.ts";
import { callDeviceApi } from "../../_shared/db.ts";
import { ApiError, jsonResponse } from "../../_shared/errors.ts";
import { readJsonBody } from "../../_shared/request.ts";
import type { RouteHandler } from "../context.ts";
import { assertPhotoContentType, Seq } from "../photo.ts";

const MAX_METADATA_BYTES = 4096;

export const IngestRequest = z.object({
  object_key: z.string().min(1).max(512).startsWith("devices/", "must be a key from /devices/upload-url"),
  captured_at: z.iso.datetime({ offset: true }),
  seq: Seq,
  content_type: z.string().max(100).optional(),
  ntp_synced: z.boolean().default(false),
  metadata: z.record(z.string(), z.unknown())
    .refine((m) => JSON.stringify(m).length <= MAX_METADATA_BYTES, `must be at most ${MAX_METADATA_BYTES} bytes of JSON`)
    .optional(),
});
export type IngestRequest = z.infer<typeof IngestRequest>;

export const ingest: RouteHandler = async (req, ctx) => {
  const tokenHash = await deviceTokenHashFrom(req, ctx.config.tokenPepper);
  const body = await readJsonBody(req, IngestRequest);
  if (body.content_type !== undefined) assertPhotoContentType(body.content_type);
  const objectKey = body.object_key;
  if (objectKey.split("/").some((s) => s === ".." || s === ".")) {
    throw new ApiError(400, "invalid_request", "object_key: must not contain '.' or '..' segments");
  }

  // Asked before the transaction; the SQL function decides whether it matters.
  const present = await ctx.storage.objectExists(objectKey);
  const [row] = await callDeviceApi(() =>
    ctx.sql<{ status: "queued" | "duplicate"; item_id: string; task_id: string | null }[]>`
      select * from device_api.ingest(${tokenHash}, ${body.seq}, ${objectKey},
                                      ${body.captured_at}::timestamptz, ${body.content_type ?? null},
                                      ${body.ntp_synced}, ${ctx.sql.json((body.metadata ?? {}) as never)},
                                      ${present})`
  );
  if (row.status === "duplicate") {
    return jsonResponse({ status: "duplicate", item_id: row.item_id });
  }
  return jsonResponse({ status: "queued", item_id: row.item_id, task_id: row.task_id }, 201);
};
