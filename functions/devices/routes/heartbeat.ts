import { z } from "zod";
import { callDeviceApi } from "../../_shared/db.ts";
import { jsonResponse } from "../../_shared/errors.ts";
import { splitUploadUrl } from "../../_shared/storage/driver.ts";
import { printableText } from "../../_shared/text.ts";
import type { DevicesContext } from "../context.ts";
import { imageStore, OTA, OtaError, OtaState, Version } from "../ota.ts";
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
  // Where the camera's update stands, about the release of ota_version (absent: idle).
  ota_state: OtaState.nullable().default(null),
  ota_version: Version.nullable().default(null),
  ota_error: OtaError.nullable().default(null),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const heartbeat = defineRoute({
  method: "POST", path: "/devices/heartbeat", auth: "device", body: HeartbeatRequest, limits: ["heartbeatsPerHour"],
  summary: "the camera's status (and where its firmware update stands) in; the owner's settings, and an update it is due for, out",
  answers: "200 `{ settings: { paused, capture_interval_s }, next_heartbeat_s, rotate_token, update? }` (`update`: version, min_version, size, sha256, signature, key_id, url, download_host, download_port, download_path, url_expires_in_s)",
  handler: async ({ auth: { tokenHash }, body: b }, ctx) => {
    const [row] = await callDeviceApi(() =>
      ctx.sql<HeartbeatRow[]>`
        select * from device_api.heartbeat(
          p_token_hash => ${tokenHash}, p_firmware_version => ${b.firmware_version},
          p_free_bytes => ${b.free_bytes}::bigint, p_queue_depth => ${b.queue_depth}::integer,
          p_dropped => ${b.dropped}::bigint, p_quarantined => ${b.quarantined}::integer, p_last_error => ${b.last_error},
          p_uptime_s => ${b.uptime_s}::bigint, p_rssi_dbm => ${b.rssi_dbm}::integer, p_clock_synced => ${b.clock_synced},
          p_max_per_hour => ${ctx.config.heartbeatsPerHour}, p_token_max_age_seconds => ${ctx.config.tokenMaxAgeSeconds},
          p_ota_state => ${b.ota_state}, p_ota_version => ${b.ota_version}, p_ota_error => ${b.ota_error},
          p_ota_min_attempts => ${OTA.autoHaltMinAttempts}, p_ota_max_rollback_percent => ${OTA.autoHaltMaxRollbackPercent})`
    );
    return jsonResponse({
      settings: { paused: row.paused, capture_interval_s: row.capture_interval_s },
      next_heartbeat_s: ctx.config.heartbeatIntervalSeconds,
      rotate_token: row.rotate_token,
      ...(row.update_version === null ? {} : { update: await updateOffer(ctx, row) }),
    });
  },
});

type HeartbeatRow = {
  paused: boolean; capture_interval_s: number | null; rotate_token: boolean;
  update_version: string | null; update_size: string; update_sha256: string; update_signature: string;
  update_key_id: string; update_min_version: string | null; update_object_key: string;
};

/** The offer: what the camera checks the image against, and a fresh short-lived URL for it. */
async function updateOffer(ctx: DevicesContext, row: HeartbeatRow) {
  const [url] = await imageStore(ctx.storage).signDownloadUrls([row.update_object_key], OTA.downloadUrlTtlSeconds);
  const { host, port, path } = splitUploadUrl(url);
  return {
    version: row.update_version, min_version: row.update_min_version, size: Number(row.update_size),
    sha256: row.update_sha256, signature: row.update_signature, key_id: row.update_key_id,
    url, download_host: host, download_port: port, download_path: path,
    url_expires_in_s: OTA.downloadUrlTtlSeconds,
  };
}
