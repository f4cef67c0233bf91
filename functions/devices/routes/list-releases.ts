// GET /devices/releases (user JWT): the caller's releases with their rollout progress.
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import type { RouteHandler } from "../context.ts";
import { OTA } from "../ota.ts";

export const listReleases: RouteHandler = async (req, ctx) => {
  const user = await ctx.verifyUser(req);
  const [row] = await callDeviceApi(() =>
    ctx.sql<{ releases: unknown[] }[]>`
      select device_api.list_releases(p_user_id => ${user.userId}::uuid, p_max_per_hour => ${OTA.listingsPerHour}) as releases`
  );
  return jsonResponse({ releases: row.releases });
};
