// The device lifecycle routes' fixed numbers: how often a camera reports, how old a token
// may grow before the heartbeat asks for a rotation, and the rate limits of each route.
import { ApiError } from "../_shared/errors.ts";
import { printableText } from "../_shared/text.ts";

export const LIFECYCLE = {
  /** The heartbeat answers "call again in" this many seconds (a pause takes effect within it). */
  heartbeatIntervalSeconds: 60,
  /** A token older than this is asked to rotate on the next heartbeat. */
  tokenMaxAgeSeconds: 90 * 24 * 3600,
  heartbeatsPerHour: 360,
  rotationsPerHour: 10,
  listingsPerHour: 600,
  /** rename, revoke and settings together, per user */
  changesPerHour: 300,
} as const;

export const DeviceName = printableText({ min: 1, max: 64, trim: true });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The same 404 the SQL gives for another user's device: a malformed id reveals nothing more. */
export function deviceNotFound(): ApiError {
  return new ApiError(404, "device_not_found", "You have no device with this id.");
}

/** `<id>` of `…/devices/<id>/<action>`, or 404. */
export function deviceIdFromPath(req: Request): string {
  const match = /(?:^|\/)devices\/([^/]+)\/[a-z-]+\/?$/.exec(new URL(req.url).pathname);
  const id = match ? decodedOrNull(match[1]) : null;
  if (id === null || !UUID.test(id)) throw deviceNotFound();
  return id.toLowerCase();
}

/** `%zz` and other malformed escapes make decodeURIComponent throw: no such id. */
function decodedOrNull(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
