import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { defineRoute } from "../route.ts";

export const revokeDevice = defineRoute({
  method: "POST", path: "/devices/:device/revoke", auth: "user", body: "none", limits: ["changesPerHour"],
  summary: "the device's token stops working on its next request (idempotent)",
  answers: "200 `{ device }` (idempotent)",
  handler: async ({ auth: user, params: { device: deviceId } }, ctx) => {
    const [row] = await callDeviceApi(() =>
      ctx.sql<{ device: unknown }[]>`
        select device_api.revoke_device(p_user_id => ${user.userId}::uuid, p_device_id => ${deviceId}::uuid,
                                        p_max_per_hour => ${ctx.config.changesPerHour}) as device`
    );
    return jsonResponse({ device: row.device });
  },
});
