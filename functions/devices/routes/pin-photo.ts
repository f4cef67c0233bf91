// POST /devices/photos/<item_id>/pin (user JWT) { pinned }: a pinned photo is never hidden
// and never deleted by retention.
import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { ApiError, jsonResponse } from "../../_shared/errors.ts";
import { readJsonBody } from "../../_shared/request.ts";
import type { RouteHandler } from "../context.ts";
import { PHOTO_LIMITS, type PhotoRow, withSignedUrls } from "../owner-photos.ts";

export const PinRequest = z.object({ pinned: z.boolean() }).strict();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function photoIdFromPath(req: Request): string {
  const match = /(?:^|\/)devices\/photos\/([^/]+)\/pin\/?$/.exec(new URL(req.url).pathname);
  const id = match ? decodeURIComponent(match[1]) : "";
  if (!UUID.test(id)) throw new ApiError(404, "photo_not_found", "You have no photo with this id.");
  return id.toLowerCase();
}

export const pinPhoto: RouteHandler = async (req, ctx) => {
  const user = await ctx.verifyUser(req);
  const itemId = photoIdFromPath(req);
  const body = await readJsonBody(req, PinRequest);
  const rows = await callDeviceApi(() =>
    ctx.sql<PhotoRow[]>`
      select photo, thumbnail_key, preview_key
        from device_api.set_pin(p_user_id => ${user.userId}::uuid, p_item_id => ${itemId}::uuid, p_pinned => ${body.pinned},
                                p_max_per_hour => ${PHOTO_LIMITS.pinsPerHour})`
  );
  const [photo] = await withSignedUrls(ctx, rows);
  return jsonResponse({ photo });
};
