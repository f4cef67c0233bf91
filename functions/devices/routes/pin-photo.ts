import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { type PhotoRow, withSignedUrls } from "../owner-photos.ts";
import { defineRoute } from "../route.ts";

export const PinRequest = z.object({ pinned: z.boolean() }).strict();

export const pinPhoto = defineRoute({
  method: "POST", path: "/devices/photos/:photo/pin", auth: "user", body: PinRequest, limits: ["pinsPerHour"],
  summary: "pin or unpin one of the caller's photos: a pinned photo is never hidden and never deleted by retention",
  answers: "200 `{ photo }`",
  handler: async ({ auth: user, params: { photo: itemId }, body }, ctx) => {
    const rows = await callDeviceApi(() =>
      ctx.sql<PhotoRow[]>`
        select photo, thumbnail_key, preview_key
          from device_api.set_pin(p_user_id => ${user.userId}::uuid, p_item_id => ${itemId}::uuid, p_pinned => ${body.pinned},
                                  p_max_per_hour => ${ctx.config.pinsPerHour})`
    );
    const [photo] = await withSignedUrls(ctx, rows);
    return jsonResponse({ photo });
  },
});
