// Parsers of the `:name` path segments routes declare; each refuses what it cannot be with the
// same 404 the SQL gives for another user's row, so a malformed id reveals nothing more.
import { ApiError } from "../_shared/errors.ts";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id from a path segment (percent-encoded or not), lower-cased; else `notFound`. */
function idSegment(notFound: () => ApiError): (segment: string) => string {
  return (segment) => {
    let id = "";
    try {
      id = decodeURIComponent(segment);
    } catch { /* malformed percent-encoding: not an id */ }
    if (!UUID.test(id)) throw notFound();
    return id.toLowerCase();
  };
}

export const PATH_PARAMS: Record<string, (segment: string) => string> = {
  device: idSegment(() => new ApiError(404, "device_not_found", "You have no device with this id.")),
  photo: idSegment(() => new ApiError(404, "photo_not_found", "You have no photo with this id.")),
};
