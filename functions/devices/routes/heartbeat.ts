// POST /devices/heartbeat (device token): the camera's status in, the owner's settings out.
import { z } from "zod";
import { deviceTokenHashFrom } from "../../_shared/auth/device-token.ts";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { readJsonBody } from "../../_shared/request.ts";
import type { RouteHandler } from "../context.ts";
import { LIFECYCLE } from "../lifecycle.ts";

const Count = (max: number) => z.number().int().min(0).max(max);
// Printable text only: it is shown to the owner as is.
const PRINTABLE = /^[^\p{Cc}\p{Cs}]*$/u;

export const HeartbeatRequest = z.object({
  firmware_version: z.string().min(1).max(32).regex(/^[0-9A-Za-z._+-]+$/, "letters, digits and . _ + - only"),
  free_bytes: Count(Number.MAX_SAFE_INTEGER),
  queue_depth: Count(2 ** 31 - 1),
  dropped: Count(Number.MAX_SAFE_INTEGER),
  quarantined: Count(2 ** 31 - 1),
  last_error: z.string().max(200).regex(PRINTABLE, "must be printable text").nullable().default(null),
  uptime_s: Count(Number.MAX_SAFE_INTEGER),
  rssi_dbm: z.number().int().min(-127).max(0).nullable().default(null),
  clock_synced: z.boolean(),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const heartbeat: RouteHandler = async (req, ctx) => {
  const tokenHash = await deviceTokenHashFrom(req, ctx.config.tokenPepper);
  const b = await readJsonBody(req, HeartbeatRequest);
  const [row] = await callDeviceApi(() =>
    ctx.sql<{ paused: boolean; capture_interval_s: number | null; rotate_token: boolean }[]>`
      select * from device_api.heartbeat(${tokenHash}, ${b.firmware_version}, ${b.free_bytes}::bigint,
                                         ${b.queue_depth}::integer, ${b.dropped}::bigint, ${b.quarantined}::integer,
                                         ${b.last_error}, ${b.uptime_s}::bigint, ${b.rssi_dbm}::integer,
                                         ${b.clock_synced}, ${LIFECYCLE.heartbeatsPerHour},
                                         ${LIFECYCLE.tokenMaxAgeSeconds})`
  );
  return jsonResponse({
    settings: { paused: row.paused, capture_interval_s: row.capture_interval_s },
    next_heartbeat_s: LIFECYCLE.heartbeatIntervalSeconds,
    rotate_token: row.rotate_token,
  });
};
