import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { DeviceName } from "../device-name.ts";
import { defineRoute } from "../route.ts";

export const RenameRequest = z.object({ name: DeviceName });
export type RenameRequest = z.infer<typeof RenameRequest>;

export const renameDevice = defineRoute({
  method: "POST", path: "/devices/:device/rename", auth: "user", body: RenameRequest, limits: ["changesPerHour"],
  summary: "a new name for one of the caller's devices",
  answers: "200 `{ device }`",
  handler: async ({ auth: user, params: { device: deviceId }, body }, ctx) => {
    const [row] = await callDeviceApi(() =>
      ctx.sql<{ device: unknown }[]>`
        select device_api.rename_device(p_user_id => ${user.userId}::uuid, p_device_id => ${deviceId}::uuid,
                                        p_name => ${body.name}, p_max_per_hour => ${ctx.config.changesPerHour}) as device`
    );
    return jsonResponse({ device: row.device });
  },
});
