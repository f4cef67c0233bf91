// POST /devices/<id>/revoke (user JWT): the device's token stops working on its next
// request. Idempotent; the body may be empty or {}.
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import type { RouteHandler } from "../context.ts";
import { deviceIdFromPath, LIFECYCLE } from "../lifecycle.ts";

export const revokeDevice: RouteHandler = async (req, ctx) => {
  const user = await ctx.verifyUser(req);
  const deviceId = deviceIdFromPath(req);
  await req.body?.cancel();
  const [row] = await callDeviceApi(() =>
    ctx.sql<{ device: unknown }[]>`
      select device_api.revoke_device(p_user_id => ${user.userId}::uuid, p_device_id => ${deviceId}::uuid,
                                      p_max_per_hour => ${LIFECYCLE.changesPerHour}) as device`
  );
  return jsonResponse({ device: row.device });
};
