// Clients and fixtures for the firmware release routes: a signed image published the way
// the CLI does it (upload URL, PUT, create), a fleet of one owner's devices, and the
// rollout hash computed here independently of the SQL.
import { createHash, randomBytes } from "node:crypto";
import { generateReleaseKey, type ReleaseKeyPair, signImage } from "../../scripts/cli/firmware-signing.ts";
import { validHeartbeat } from "./lifecycle.ts";
import { type ApiResult, deviceHeaders, newUser, pairDevice, post, sql, stack } from "./stack.ts";

export interface Offer {
  version: string; size: number; sha256: string; signature: string; key_id: string;
  url: string; download_host: string; download_port: number; download_path: string; url_expires_in_s: number;
}
export interface ReleaseView {
  id: string; version: string; channel: string; size: number; sha256: string; key_id: string;
  min_version: string | null; rollout_percent: number; halted: boolean; halted_reason: string | null;
  progress: { offered: number; downloaded: number; installed: number; confirmed: number; rolled_back: number; refused: number };
}

export const userHeaders = (token: string) => ({ authorization: `Bearer ${token}` });

export function fakeImage(size = 64 * 1024): Uint8Array<ArrayBuffer> {
  return new Uint8Array(randomBytes(size));
}

export async function uploadImage(userToken: string, image: Uint8Array<ArrayBuffer>, sha256: string) {
  const target = await post<{ object_key: string; upload: { url: string; headers: Record<string, string> } | null }>(
    "release-upload-url", { size: image.length, sha256 }, userHeaders(userToken));
  if (target.status !== 200) throw new Error(`release-upload-url: ${target.status} ${JSON.stringify(target.body)}`);
  if (target.body.upload) {
    const put = await fetch(target.body.upload.url, { method: "PUT", headers: target.body.upload.headers, body: image });
    await put.body?.cancel();
    if (put.status !== 200) throw new Error(`PUT image: ${put.status}`);
  }
  return target.body;
}

export interface PublishOptions { key?: ReleaseKeyPair; rollout_percent?: number; min_version?: string | null; image?: Uint8Array<ArrayBuffer> }

/** Upload and create a release; returns the raw answer of POST /devices/releases. */
export async function publish(userToken: string, version: string, o: PublishOptions = {}, override: Record<string, unknown> = {}) {
  const key = o.key ?? generateReleaseKey();
  const image = o.image ?? fakeImage();
  const signed = signImage(key, version, image);
  await uploadImage(userToken, image, signed.sha256);
  const r = await post<{ release: ReleaseView }>("releases", {
    ...signed, rollout_percent: o.rollout_percent ?? 100, min_version: o.min_version ?? null, ...override,
  }, userHeaders(userToken));
  return { ...r, image, signed, key };
}

export async function published(userToken: string, version: string, o: PublishOptions = {}) {
  const r = await publish(userToken, version, o);
  if (r.status !== 201) throw new Error(`create release: ${r.status} ${JSON.stringify(r.body)}`);
  return { release: r.body.release, image: r.image, signed: r.signed, key: r.key };
}

/** One owner with n activated devices (pairings are limited per hour: n ≤ 20). */
export async function fleet(n: number) {
  const user = await newUser();
  const devices: { deviceId: string; token: string }[] = [];
  for (let i = 0; i < n; i += 5) {
    devices.push(...await Promise.all(Array.from({ length: Math.min(5, n - i) }, async () => {
      const paired = await pairDevice(user.token, "fleet-cam");
      const r = await post<{ device_id: string; device_token: string }>("activate", { pairing_code: paired.pairing_code });
      if (r.status !== 201) throw new Error(`activate: ${r.status} ${JSON.stringify(r.body)}`);
      return { deviceId: r.body.device_id, token: r.body.device_token };
    })));
  }
  return { user, devices };
}

export function otaHeartbeat(token: string, fields: Record<string, unknown> = {}) {
  return post<{ update?: Offer; settings: unknown }>("heartbeat", { ...validHeartbeat, ...fields }, deviceHeaders(token));
}

export async function listReleases(userToken: string): Promise<ApiResult<{ releases: ReleaseView[] }>> {
  const res = await fetch(`${stack.api_base}/devices/releases`, { headers: userHeaders(userToken) });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export function changeRelease(userToken: string, action: "halt" | "resume" | "rollout", body: Record<string, unknown>) {
  return post<{ release: ReleaseView }>(`release-${action}`, body, userHeaders(userToken));
}

/** The rollout bucket (0..99) of a device id, computed as the SQL does but in Node. */
export function rolloutBucket(deviceId: string): number {
  return parseInt(createHash("md5").update(`lifelog-rollout:${deviceId}`).digest("hex").slice(0, 8), 16) % 100;
}

/** Everything the OTA routes may write, for "nothing changed" checks. */
export async function otaSnapshot() {
  const [row] = await sql`
    select (select coalesce(jsonb_agg(to_jsonb(r) order by r.id), '[]') from public.firmware_releases r) as releases,
           (select coalesce(jsonb_agg(to_jsonb(d) order by d.release_id, d.device_id), '[]') from public.firmware_release_devices d) as progress`;
  return row;
}
