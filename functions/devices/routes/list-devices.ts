import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { defineRoute } from "../route.ts";

export const listDevices = defineRoute({
  method: "GET", path: "/devices", auth: "user", body: "none", limits: ["listingsPerHour"],
  summary: "the caller's devices with settings, last status and item counts",
  answers: "200 `{ devices: [device…] }`",
  handler: async ({ auth: user }, ctx) => {
    const [row] = await callDeviceApi(() =>
      ctx.sql<{ devices: unknown[] }[]>`
        select device_api.list_devices(p_user_id => ${user.userId}::uuid, p_max_per_hour => ${ctx.config.listingsPerHour}) as devices`
    );
    return jsonResponse({ devices: row.devices });
  },
});
