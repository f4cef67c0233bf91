import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { defineRoute } from "../route.ts";

export const listReleases = defineRoute({
  method: "GET", path: "/devices/releases", auth: "user", body: "none", limits: ["listingsPerHour"],
  summary: "the caller's firmware releases with their rollout progress",
  answers: "200 `{ releases: [release…] }` (each with `progress`: offered, downloaded, installed, confirmed, rolled_back, refused)",
  handler: async ({ auth: user }, ctx) => {
    const [row] = await callDeviceApi(() =>
      ctx.sql<{ releases: unknown[] }[]>`
        select device_api.list_releases(p_user_id => ${user.userId}::uuid, p_max_per_hour => ${ctx.config.listingsPerHour}) as releases`
    );
    return jsonResponse({ releases: row.releases });
  },
});
