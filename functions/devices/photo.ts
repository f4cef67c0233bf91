// What the device routes accept as a photo and its sequence number (upload-url and ingest).
import { z } from "zod";
import { ApiError } from "../_shared/errors.ts";

export const PHOTO_CONTENT_TYPES = ["image/jpeg"] as const;

/** The device's capture counter (a uint32 on the camera): (device, seq) names one photo for good. */
export const MAX_SEQ = 4_294_967_295;
export const Seq = z.number().int().min(0).max(MAX_SEQ);

/** Hex SHA-256 of the photo's bytes, as the camera computes it at capture. */
export const Sha256Hex = z.string().regex(/^[0-9a-fA-F]{64}$/, "must be 64 hexadecimal digits")
  .transform((s) => s.toLowerCase());

// Cameras that never saw NTP report times from 1970 on; a day ahead allows for clock drift.
export const EARLIEST_CAPTURE = Date.UTC(1970, 0, 1);
export const CAPTURE_AHEAD_MS = 24 * 60 * 60 * 1000;
export const CapturedAt = z.iso.datetime({ offset: true })
  .refine((s) => {
    const t = Date.parse(s);
    return t >= EARLIEST_CAPTURE && t <= Date.now() + CAPTURE_AHEAD_MS;
  }, "must be between 1970-01-01T00:00:00Z and a day from now");

export function assertPhotoContentType(contentType: string): void {
  if (!(PHOTO_CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw new ApiError(415, "unsupported_content_type",
      `Photos must be one of: ${PHOTO_CONTENT_TYPES.join(", ")}.`);
  }
}
