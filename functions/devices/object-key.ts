// The one rule for object keys: what upload-url accepts as a file name and what ingest
// accepts as a key are both built from it, so every key a request can name is one every
// supported store holds (S3: at most 1,024 bytes; Supabase Storage: no `%`, `\`, control
// or bidi characters). A key outside it is refused as 400 up front, never reaches storage.
import { z } from "zod";

/** Letters, digits, '.', '_', '-'; starts with a letter or digit (so never '.' or '..'). */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SAFE_SEGMENT_TEXT = "letters, digits, '.', '_', '-', starting with a letter or digit";

export const MAX_FILENAME_CHARS = 128;
// devices/<uuid>/YYYY/MM/DD/<seq>-<8 hex>-<filename> is under 200 ASCII characters.
export const MAX_OBJECT_KEY_CHARS = 256;

// A plain file name, never a path: it becomes the last segment of the object key.
export const Filename = z.string()
  .max(MAX_FILENAME_CHARS)
  .regex(SAFE_SEGMENT, `must be a plain file name (${SAFE_SEGMENT_TEXT})`)
  .refine((f) => !f.includes(".."), "must not contain '..'")
  .refine((f) => /\.jpe?g$/i.test(f), "must end in .jpg or .jpeg");

export const ObjectKey = z.string()
  .min(1)
  .max(MAX_OBJECT_KEY_CHARS)
  .startsWith("devices/", "must be a key from /devices/upload-url")
  .refine((k) => k.split("/").slice(1).every((s) => SAFE_SEGMENT.test(s) && !s.includes("..")),
    `must be a key from /devices/upload-url (segments of ${SAFE_SEGMENT_TEXT})`);
