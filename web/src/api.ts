// The page's one way to the backend: the `devices` function with the signed-in user's token.
import { showable } from "../../functions/_shared/printable.ts";

export interface DeviceStatus {
  reported_at: string; firmware_version: string | null; free_bytes: number | null; queue_depth: number | null;
  dropped: number | null; quarantined: number | null; last_error: string | null; uptime_s: number | null;
  rssi_dbm: number | null; clock_synced: boolean | null;
}
export interface Device {
  id: string; name: string | null; created_at: string; activated_at: string | null; last_seen_at: string | null;
  revoked_at: string | null; firmware_version: string | null;
  settings: { paused: boolean; capture_interval_s: number | null; updated_at: string | null };
  status: DeviceStatus | null;
  items: { today: number; total: number };
}
export interface Photo {
  item_id: string; device_id: string; seq: number; captured_at: string; size_bytes: number;
  status: "pending" | "processed" | "failed"; width: number | null; height: number | null;
  thumbnail_url: string | null; preview_url: string | null; urls_expire_at: string | null;
  flags: { dark: boolean; blurry: boolean; duplicate: boolean }; hidden: boolean; pinned: boolean;
  moment_id: string | null; original_kept: boolean;
}

/** An answer in the API's error shape, or a network failure (status 0). */
export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
  get sessionExpired(): boolean {
    return this.status === 401 && /authorization/.test(this.code);
  }
}

export interface Api {
  listDevices(): Promise<Device[]>;
  pair(name?: string): Promise<{ device_id: string; pairing_code: string; expires_at: string }>;
  rename(id: string, name: string): Promise<Device>;
  revoke(id: string): Promise<Device>;
  settings(id: string, change: { paused?: boolean; capture_interval_s?: number | null }): Promise<Device>;
  photos(q: { device_id?: string; from: string; to: string; include_hidden: boolean; cursor?: string }): Promise<{ photos: Photo[]; next_cursor: string | null }>;
  pin(itemId: string, pinned: boolean): Promise<Photo>;
}

export function createApi(functionsUrl: string, anonKey: string, accessToken: () => Promise<string | null>): Api {
  async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const token = await accessToken();
    if (!token) throw new ApiFailure(401, "missing_authorization", "Your session has ended. Sign in again.");
    let res: Response;
    try {
      res = await fetch(`${functionsUrl}/devices${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, apikey: anonKey, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiFailure(0, "network", "The server could not be reached. Check your connection and try again.");
    }
    const text = await res.text();
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch { parsed = undefined; }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiFailure(res.status, err?.code ?? "http_error", err?.message ?? `The server answered ${res.status}.`);
    }
    return parsed as T;
  }
  const id = encodeURIComponent;
  // Text a camera or client wrote is shown without the characters that reorder or hide what is around it.
  const shown = (d: Device): Device => ({
    ...d,
    name: d.name === null ? null : showable(d.name),
    firmware_version: d.firmware_version === null ? null : showable(d.firmware_version),
    status: d.status && {
      ...d.status,
      last_error: d.status.last_error === null ? null : showable(d.status.last_error),
      firmware_version: d.status.firmware_version === null ? null : showable(d.status.firmware_version),
    },
  });
  return {
    listDevices: async () => (await call<{ devices: Device[] }>("GET", "")).devices.map(shown),
    pair: (name) => call("POST", "/pair", name ? { name } : {}),
    rename: async (d, name) => shown((await call<{ device: Device }>("POST", `/${id(d)}/rename`, { name })).device),
    revoke: async (d) => shown((await call<{ device: Device }>("POST", `/${id(d)}/revoke`, {})).device),
    settings: async (d, change) => shown((await call<{ device: Device }>("POST", `/${id(d)}/settings`, change)).device),
    photos: (q) => {
      const p = new URLSearchParams({ from: q.from, to: q.to, include_hidden: String(q.include_hidden), limit: "500" });
      if (q.device_id) p.set("device_id", q.device_id);
      if (q.cursor) p.set("cursor", q.cursor);
      return call("GET", `/photos?${p}`);
    },
    pin: async (item, pinned) => (await call<{ photo: Photo }>("POST", `/photos/${id(item)}/pin`, { pinned })).photo,
  };
}
