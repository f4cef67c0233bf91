// POST /devices/<id>/rename (user JWT): a new name for one of the caller's devices.
import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { readJsonBody } from "../../_shared/request.ts";
import type { RouteHandler } from "../context.ts";
import { DeviceName, deviceIdFromPath, LIFECYCLE } from "../lifecycle.ts";

export const RenameRequest = z.object({ name: DeviceName });
export type RenameRequest = z.infer<typeof RenameRequest>;

export const renameDevice: RouteHandler = async (req, ctx) => {
  const user = await ctx.verifyUser(req);
  const deviceId = deviceIdFromPath(req);
  const body = await readJsonBody(req, RenameRequest);
  const [row] = await callDeviceApi(() =>
    ctx.sql<{ device: unknown }[]>`
      select device_api.rename_device(p_user_id => ${user.userId}::uuid, p_device_id => ${deviceId}::uuid,
                                      p_name => ${body.name}, p_max_per_hour => ${LIFECYCLE.changesPerHour}) as device`
  );
  return jsonResponse({ device: row.device });
};
