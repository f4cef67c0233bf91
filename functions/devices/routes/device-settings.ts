// POST /devices/<id>/settings (user JWT): privacy pause and capture interval, read by the
// camera on its next heartbeat.
import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { readJsonBody } from "../../_shared/request.ts";
import type { RouteHandler } from "../context.ts";
import { deviceIdFromPath, LIFECYCLE } from "../lifecycle.ts";

export const SettingsRequest = z.object({
  paused: z.boolean().optional(),
  // null: back to the interval the camera was built with
  capture_interval_s: z.number().int().min(5).max(3600).nullable().optional(),
}).refine((s) => s.paused !== undefined || s.capture_interval_s !== undefined, {
  message: "give paused and/or capture_interval_s",
});
export type SettingsRequest = z.infer<typeof SettingsRequest>;

export const deviceSettings: RouteHandler = async (req, ctx) => {
  const user = await ctx.verifyUser(req);
  const deviceId = deviceIdFromPath(req);
  const body = await readJsonBody(req, SettingsRequest);
  const [row] = await callDeviceApi(() =>
    ctx.sql<{ device: unknown }[]>`
      select device_api.update_device_settings(
        p_user_id => ${user.userId}::uuid, p_device_id => ${deviceId}::uuid, p_paused => ${body.paused ?? null},
        p_set_interval => ${body.capture_interval_s !== undefined},
        p_capture_interval_s => ${body.capture_interval_s ?? null}, p_max_per_hour => ${LIFECYCLE.changesPerHour}) as device`
  );
  return jsonResponse({ device: row.device });
};
