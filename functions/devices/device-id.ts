// The `:device` segment of the per-device owner routes.
import { ApiError } from "../_shared/errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The same 404 the SQL gives for another user's device: a malformed id reveals nothing more. */
export function deviceNotFound(): ApiError {
  return new ApiError(404, "device_not_found", "You have no device with this id.");
}

/** A device id from a path segment (percent-encoded or not), lower-cased; else 404. */
export function parseDeviceId(segment: string): string {
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    throw deviceNotFound(); // malformed percent-encoding
  }
  if (!UUID.test(id)) throw deviceNotFound();
  return id.toLowerCase();
}
