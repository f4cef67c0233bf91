import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { decodeCursor, encodeCursor, type PhotoRow, readListQuery, withSignedUrls } from "../owner-photos.ts";
import { defineRoute } from "../route.ts";

export const listPhotos = defineRoute({
  method: "GET", path: "/devices/photos", auth: "user", body: "none", limits: ["photoListingsPerHour"],
  summary: "a page of the caller's photos (one device's or all) in a time range, by capture time; query " +
    "`device_id?, from, to, include_hidden?, limit?, cursor?` (docs/photos-api.md)",
  answers: "200 `{ photos: [photo…], next_cursor }`, URLs signed in one batch",
  handler: async ({ auth: user, req }, ctx) => {
    const q = readListQuery(req);
    const after = q.cursor ? decodeCursor(q.cursor, q) : null;
    const rows = await callDeviceApi(() =>
      ctx.sql<(PhotoRow & { position_at: string })[]>`
        select photo, thumbnail_key, preview_key, position_at
          from device_api.list_photos(p_user_id => ${user.userId}::uuid, p_device_id => ${q.device_id ?? null}::uuid,
                 p_from => ${q.from}::timestamptz, p_to => ${q.to}::timestamptz, p_include_hidden => ${q.include_hidden},
                 p_limit => ${q.limit + 1}, p_after_at => ${after?.at ?? null}::timestamptz, p_after_id => ${after?.id ?? null}::uuid,
                 p_max_per_hour => ${ctx.config.photoListingsPerHour})`
    );
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > q.limit && last ? encodeCursor({ at: last.position_at, id: String(last.photo.item_id) }) : null;
    return jsonResponse({ photos: await withSignedUrls(ctx, page), next_cursor: nextCursor });
  },
});
