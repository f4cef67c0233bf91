import { generateDeviceToken, hashDeviceToken } from "../../_shared/auth/device-token.ts";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { defineRoute } from "../route.ts";

export const rotate = defineRoute({
  method: "POST", path: "/devices/rotate", auth: "device", body: "none", limits: ["rotationsPerHour"],
  summary: "a new device token; the presented one works until the new one is first used",
  answers: "201 `{ device_id, device_token }`",
  handler: async ({ auth: { tokenHash } }, ctx) => {
    const token = generateDeviceToken();
    const newHash = await hashDeviceToken(token, ctx.config.tokenPepper);
    const [row] = await callDeviceApi(() =>
      ctx.sql<{ device_id: string }[]>`
        select * from device_api.rotate_token(p_token_hash => ${tokenHash}, p_new_token_hash => ${newHash},
                                            p_max_per_hour => ${ctx.config.rotationsPerHour})`
    );
    return jsonResponse({ device_id: row.device_id, device_token: token }, 201);
  },
});
