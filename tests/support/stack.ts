// What the API and database tests share: the running stack, a connection as the tables'
// owner `postgres` (as on hosted Supabase, not a superuser) for looking behind the API,
// and small clients for each route.
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, inject } from "vitest";
import { createLocalUser } from "../../scripts/stack/auth.ts";
import { storedObject } from "./stored-object.ts";

export const stack = inject("stack");
export const sql = postgres(stack.db_url, { max: 4, onnotice: () => {} });
afterAll(() => sql.end());

export interface ApiResult<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export async function post<T = Record<string, unknown>>(
  route: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResult<T>> {
  const res = await fetch(`${stack.api_base}/devices/${route}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch { /* left as text */ }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export async function newUser(): Promise<{ id: string; token: string }> {
  const { user, accessToken } = await createLocalUser(sql, stack.authKey, `u-${randomUUID().slice(0, 8)}@test.local`);
  return { id: user.id, token: accessToken };
}

export async function pairDevice(userToken: string, name = "test-cam") {
  const r = await post<{ device_id: string; pairing_code: string; expires_at: string }>(
    "pair", { name }, { authorization: `Bearer ${userToken}` });
  if (r.status !== 201) throw new Error(`pair failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A user with an activated device: the usual starting point of device-route tests. */
/** Ends the device's pairing code in the database, as if its ten minutes had passed. */
export async function expirePairingCode(deviceId: string): Promise<Date> {
  const [row] = await sql<{ expires_at: Date }[]>`
    update public.device_pairing_codes set created_at = now() - interval '1 hour', expires_at = now() - interval '1 second'
     where device_id = ${deviceId} returning expires_at`;
  return row.expires_at;
}

export async function activatedDevice() {
  const user = await newUser();
  const paired = await pairDevice(user.token);
  const r = await post<{ device_id: string; device_token: string }>("activate", { pairing_code: paired.pairing_code });
  if (r.status !== 201) throw new Error(`activate failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { user, deviceId: r.body.device_id, token: r.body.device_token };
}

export interface UploadTargetBody {
  object_key: string;
  upload_url: string;
  upload_host: string;
  upload_port: number;
  upload_path: string;
  upload_headers: Record<string, string>;
  expires_at: string;
}

export function deviceHeaders(token: string) {
  return { "x-device-token": token };
}

/** An upload-url request for photo `seq`; `extra` adds fields or replaces the usual ones. */
export function uploadUrlBody(seq: number, extra: Record<string, unknown> = {}) {
  return { filename: `photo_${seq}.jpg`, content_type: "image/jpeg", seq, ...extra };
}

/** upload-url then PUT: the bytes are in storage under the returned key. */
export async function uploadPhoto(token: string, seq: number, bytes: Uint8Array<ArrayBuffer>, filename = `photo_${seq}.jpg`) {
  const target = await post<UploadTargetBody>("upload-url", uploadUrlBody(seq, { filename }), deviceHeaders(token));
  if (target.status !== 200) throw new Error(`upload-url failed: ${target.status} ${JSON.stringify(target.body)}`);
  const put = await fetch(target.body.upload_url, { method: "PUT", headers: target.body.upload_headers, body: bytes });
  await put.body?.cancel();
  if (put.status !== 200) throw new Error(`PUT failed: ${put.status}`);
  return target.body;
}

export function ingestBody(objectKey: string, seq: number, extra: Record<string, unknown> = {}) {
  return { object_key: objectKey, captured_at: "2026-11-26T10:15:30Z", seq, content_type: "image/jpeg", ntp_synced: true, ...extra };
}

export function fakeJpeg(size = 2048, seed = Math.random()): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let x = Math.floor(seed * 2 ** 31) | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  bytes.set([0xff, 0xd8, 0xff, 0xe0], 0);
  bytes.set([0xff, 0xd9], size - 2);
  return bytes;
}

export function getObject(key: string): Promise<Uint8Array | null> {
  return storedObject(stack.storage, key);
}

/** A device's items and processing jobs: "exactly once" is one of each per photo. */
export async function deviceItemsAndJobs(deviceId: string): Promise<{ items: number; jobs: number }> {
  const [row] = await sql<{ items: number; jobs: number }[]>`
    select (select count(*) from public.source_items where device_id = ${deviceId})::int as items,
           (select count(*) from public.processing_jobs j join public.source_items i on i.id = j.item_id
             where i.device_id = ${deviceId})::int as jobs`;
  return { items: row.items, jobs: row.jobs };
}

/** Row counts of every table a route may write: "nothing written" means these do not move. */
export async function tableCounts() {
  const [row] = await sql`
    select (select count(*) from public.devices)::int as devices,
           (select count(*) from public.devices where activated_at is not null)::int as activated,
           (select count(*) from public.device_pairing_codes where used_at is not null)::int as used_codes,
           (select count(*) from public.device_upload_reservations)::int as reservations,
           (select count(*) from public.source_items)::int as items,
           (select count(*) from public.processing_jobs)::int as jobs`;
  return row;
}
