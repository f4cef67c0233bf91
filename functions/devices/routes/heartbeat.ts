import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { printableText } from "../../_shared/text.ts";
import { defineRoute } from "../route.ts";

const Count = (max: number) => z.number().int().min(0).max(max);

export const HeartbeatRequest = z.object({
  firmware_version: z.string().min(1).max(32).regex(/^[0-9A-Za-z._+-]+$/, "letters, digits and . _ + - only"),
  free_bytes: Count(Number.MAX_SAFE_INTEGER),
  queue_depth: Count(2 ** 31 - 1),
  dropped: Count(Number.MAX_SAFE_INTEGER),
  quarantined: Count(2 ** 31 - 1),
  last_error: printableText({ max: 200 }).nullable().default(null),
  uptime_s: Count(Number.MAX_SAFE_INTEGER),
  rssi_dbm: z.number().int().min(-127).max(0).nullable().default(null),
  clock_synced: z.boolean(),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const heartbeat = defineRoute({
  method: "POST", path: "/devices/heartbeat", auth: "device", body: HeartbeatRequest, limits: ["heartbeatsPerHour"],
  summary: "the camera's status in, the owner's settings out",
  answers: "200 `{ settings: { paused, capture_interval_s }, next_heartbeat_s, rotate_token }`",
  handler: async ({ auth: { tokenHash }, body: b }, ctx) => {
    const [row] = await callDeviceApi(() =>
      ctx.sql<{ paused: boolean; capture_interval_s: number | null; rotate_token: boolean }[]>`
        select * from device_api.heartbeat(
          p_token_hash => ${tokenHash}, p_firmware_version => ${b.firmware_version},
          p_free_bytes => ${b.free_bytes}::bigint, p_queue_depth => ${b.queue_depth}::integer,
          p_dropped => ${b.dropped}::bigint, p_quarantined => ${b.quarantined}::integer, p_last_error => ${b.last_error},
          p_uptime_s => ${b.uptime_s}::bigint, p_rssi_dbm => ${b.rssi_dbm}::integer, p_clock_synced => ${b.clock_synced},
          p_max_per_hour => ${ctx.config.heartbeatsPerHour}, p_token_max_age_seconds => ${ctx.config.tokenMaxAgeSeconds})`
    );
    return jsonResponse({
      settings: { paused: row.paused, capture_interval_s: row.capture_interval_s },
      next_heartbeat_s: ctx.config.heartbeatIntervalSeconds,
      rotate_token: row.rotate_token,
    });
  },
});
