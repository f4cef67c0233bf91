import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { ApiError, jsonResponse } from "../../_shared/errors.ts";
import { splitUploadUrl } from "../../_shared/storage/driver.ts";
import type { Config } from "../../_shared/config.ts";
import type { DevicesContext } from "../context.ts";
import { defineRoute } from "../route.ts";
import { assertPhotoContentType, Seq, Sha256Hex } from "../photo.ts";

// A plain file name, never a path: it becomes the last segment of the object key.
export const Filename = z.string()
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be a plain file name (letters, digits, '.', '_', '-')")
  .refine((f) => !f.includes(".."), "must not contain '..'")
  .refine((f) => /\.jpe?g$/i.test(f), "must end in .jpg or .jpeg");

export const UploadUrlRequest = z.object({
  filename: Filename,
  content_type: z.string().max(100),
  seq: Seq,
  // Both fix what the store accepts: a signed Content-Length and (s3) a signed checksum.
  size: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  sha256: Sha256Hex.optional(),
});
export type UploadUrlRequest = z.infer<typeof UploadUrlRequest>;

/** The checks the route makes before the database (also each item of upload-urls). */
export function checkUploadUrlRequest(body: UploadUrlRequest, c: Config): UploadUrlRequest {
  assertPhotoContentType(body.content_type);
  if (body.size !== undefined && body.size > c.maxPhotoBytes) {
    throw new ApiError(413, "photo_too_large", `Photos may be at most ${c.maxPhotoBytes} bytes.`);
  }
  return body;
}

export type Reservation = {
  status: "reserved" | "ingested"; device_id: string; object_key: string; item_id: string | null;
  declared_size: string | null; sha256: string | null;
};

/** The route's answer for a reservation: the signed target, or 409 already_ingested. */
export async function uploadTargetBody(ctx: DevicesContext, body: UploadUrlRequest, reservation: Reservation) {
  if (reservation.status === "ingested") {
    throw new ApiError(409, "already_ingested",
      "This seq is already ingested; there is nothing left to upload for it.", { body: { item_id: reservation.item_id } });
  }
  // Signed for what the reservation holds (fixed by the first ask), not only this one.
  const target = await ctx.storage.createUploadTarget(reservation.object_key, {
    contentType: body.content_type,
    size: reservation.declared_size === null ? undefined : Number(reservation.declared_size),
    sha256: reservation.sha256 ?? undefined,
  });
  const { host, port, path } = splitUploadUrl(target.url);
  return {
    object_key: reservation.object_key,
    upload_url: target.url,
    upload_method: target.method,
    upload_host: host,
    upload_port: port,
    upload_path: path,
    upload_headers: target.headers,
    expires_at: target.expiresAt.toISOString(),
    max_bytes: ctx.config.maxPhotoBytes,
  };
}

export const uploadUrl = defineRoute({
  method: "POST", path: "/devices/upload-url", auth: "device", body: UploadUrlRequest,
  limits: ["requestsPerMinute", "maxOutstandingUploads"],
  summary: "a signed upload target for the photo of one seq",
  answers: "200 `{ object_key, upload_url, upload_method, upload_host, upload_port, upload_path, upload_headers, expires_at, max_bytes }`, or 409 `already_ingested` with `item_id`",
  handler: async ({ auth, body: request }, ctx) => {
    const { tokenHash } = auth;
      const body = checkUploadUrlRequest(request, ctx.config);
    const c = ctx.config;
    const [reservation] = await callDeviceApi(() =>
      ctx.sql<Reservation[]>`
        select * from device_api.reserve_upload(
          p_token_hash => ${tokenHash}, p_seq => ${body.seq}, p_filename => ${body.filename},
          p_content_type => ${body.content_type}, p_size => ${body.size ?? null}, p_sha256 => ${body.sha256 ?? null},
          p_url_ttl_seconds => ${c.uploadTtlSeconds}, p_max_outstanding => ${c.maxOutstandingUploads},
          p_reservation_ttl_seconds => ${c.reservationTtlSeconds},
          p_per_device_per_minute => ${c.requestsPerMinute.device}, p_per_user_per_minute => ${c.requestsPerMinute.account})`
    );
    auth.accepted(); // the drain's ingest that follows reads storage first (ingest.ts)
    return jsonResponse(await uploadTargetBody(ctx, body, reservation));
  },
});
