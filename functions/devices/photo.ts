// What the device routes accept as a photo and its sequence number (upload-url and ingest).
import { z } from "zod";
import { ApiError } from "../_shared/errors.ts";

export const PHOTO_CONTENT_TYPES = ["image/jpeg"] as const;

/** The device's capture counter: (device, seq) names one photo for good. */
export const Seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export function assertPhotoContentType(contentType: string): void {
  if (!(PHOTO_CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw new ApiError(415, "unsupported_content_type",
      `Photos must be one of: ${PHOTO_CONTENT_TYPES.join(", ")}.`);
  }
}
