import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { defineRoute } from "../route.ts";

export const SettingsRequest = z.object({
  paused: z.boolean().optional(),
  // null: back to the interval the camera was built with
  capture_interval_s: z.number().int().min(5).max(3600).nullable().optional(),
}).refine((s) => s.paused !== undefined || s.capture_interval_s !== undefined, {
  message: "give paused and/or capture_interval_s",
});
export type SettingsRequest = z.infer<typeof SettingsRequest>;

export const deviceSettings = defineRoute({
  method: "POST", path: "/devices/:device/settings", auth: "user", body: SettingsRequest, limits: ["changesPerHour"],
  summary: "privacy pause and capture interval, read by the camera on its next heartbeat",
  answers: "200 `{ device }`",
  handler: async ({ auth: user, params: { device: deviceId }, body }, ctx) => {
    const [row] = await callDeviceApi(() =>
      ctx.sql<{ device: unknown }[]>`
        select device_api.update_device_settings(
          p_user_id => ${user.userId}::uuid, p_device_id => ${deviceId}::uuid, p_paused => ${body.paused ?? null},
          p_set_interval => ${body.capture_interval_s !== undefined},
          p_capture_interval_s => ${body.capture_interval_s ?? null}, p_max_per_hour => ${ctx.config.changesPerHour}) as device`
    );
    return jsonResponse({ device: row.device });
  },
});
