// The `:photo` segment of the owner's photo routes.
import { ApiError } from "../_shared/errors.ts";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A photo (item) id from a path segment, lower-cased; else the 404 another user's photo gets. */
export function parsePhotoId(segment: string): string {
  let id = "";
  try {
    id = decodeURIComponent(segment);
  } catch { /* malformed percent-encoding: not an id */ }
  if (!UUID.test(id)) throw new ApiError(404, "photo_not_found", "You have no photo with this id.");
  return id.toLowerCase();
}
