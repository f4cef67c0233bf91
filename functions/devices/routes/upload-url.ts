// POST /devices/upload-url (device token): a signed target for the photo of one seq.
import { z } from "zod";
import { deviceTokenHashFrom } from "../../_shared/auth/device-token.ts";
import { callDeviceApi } from "../../_shared/db.ts";
import { ApiError, jsonResponse } from "../../_shared/errors.ts";
import { readJsonBody } from "../../_shared/request.ts";
import { splitUploadUrl } from "../../_shared/storage/driver.ts";
import type { RouteHandler } from "../context.ts";
import { assertPhotoContentType, Seq } from "../photo.ts";

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
  size: z.number().int().positive().optional(),
});
export type UploadUrlRequest = z.infer<typeof UploadUrlRequest>;

export const uploadUrl: RouteHandler = async (req, ctx) => {
  const tokenHash = await deviceTokenHashFrom(req, ctx.config.tokenPepper);
  const body = await readJsonBody(req, UploadUrlRequest);
  assertPhotoContentType(body.content_type);
  if (body.size !== undefined && body.size > ctx.config.maxPhotoBytes) {
    throw new ApiError(413, "photo_too_large", `Photos may be at most ${ctx.config.maxPhotoBytes} bytes.`);
  }
  const [reservation] = await callDeviceApi(() =>
    ctx.sql<{ device_id: string; object_key: string }[]>`
      select * from device_api.reserve_upload(${tokenHash}, ${body.seq}, ${body.filename},
                                              ${body.content_type})`
  );
  const target = await ctx.storage.createUploadTarget(reservation.object_key, body.content_type);
  const { host, port, path } = splitUploadUrl(target.url);
  return jsonResponse({
    object_key: reservation.object_key,
    upload_url: target.url,
    upload_method: target.method,
    upload_host: host,
    upload_port: port,
    upload_path: path,
    upload_headers: target.headers,
    expires_at: target.expiresAt.toISOString(),
    max_bytes: ctx.config.maxPhotoBytes,
  });
};
