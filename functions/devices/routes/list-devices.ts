// GET /devices (user JWT): the caller's devices with settings, last status and item counts.
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import type { RouteHandler } from "../context.ts";
import { LIFECYCLE } from "../lifecycle.ts";

export const listDevices: RouteHandler = async (req, ctx) => {
  const user = await ctx.verifyUser(req);
  const [row] = await callDeviceApi(() =>
    ctx.sql<{ devices: unknown[] }[]>`
      select device_api.list_devices(p_user_id => ${user.userId}::uuid, p_max_per_hour => ${LIFECYCLE.listingsPerHour}) as devices`
  );
  return jsonResponse({ devices: row.devices });
};
