// Clients for the device lifecycle routes, shared by the API, CLI and camera tests.
import type { DeviceView } from "../../scripts/cli/devices-api.ts";
import { type ApiResult, deviceHeaders, post, sql, stack } from "./stack.ts";

export async function listDevices(userToken: string): Promise<ApiResult<{ devices: DeviceView[] }>> {
  const res = await fetch(`${stack.api_base}/devices`, { headers: { authorization: `Bearer ${userToken}` } });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export function deviceAction(userToken: string, deviceId: string, action: "rename" | "revoke" | "settings", body: unknown = {}) {
  return post<{ device: DeviceView }>(`${deviceId}/${action}`, body, { authorization: `Bearer ${userToken}` });
}

export const validHeartbeat = {
  firmware_version: "0.3.0",
  free_bytes: 3_000_000_000,
  queue_depth: 4,
  dropped: 1,
  quarantined: 0,
  last_error: "wifi: no network in range",
  uptime_s: 3600,
  rssi_dbm: -61,
  clock_synced: true,
};

export interface HeartbeatAnswer {
  settings: { paused: boolean; capture_interval_s: number | null };
  next_heartbeat_s: number;
  rotate_token: boolean;
}

export function heartbeat(token: string, body: unknown = validHeartbeat) {
  return post<HeartbeatAnswer>("heartbeat", body, deviceHeaders(token));
}

export function rotate(token: string) {
  return post<{ device_id: string; device_token: string }>("rotate", {}, deviceHeaders(token));
}

/** Everything a lifecycle route may write, for "nothing changed" checks. */
export async function lifecycleSnapshot(deviceId: string) {
  const [row] = await sql`
    select to_jsonb(d) - 'last_seen_at' as device,
           (select to_jsonb(s) from public.device_status s where s.device_id = d.id) as status,
           (select count(*)::int from public.device_retired_tokens r where r.device_id = d.id) as retired
      from public.devices d where d.id = ${deviceId}`;
  return row;
}
