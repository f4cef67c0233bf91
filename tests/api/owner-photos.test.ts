// The owner's photo routes (docs/photos-api.md) on the local stack, with photos that went the
// whole way (camera upload, ingest, the photo worker): listing with flags, moments and signed
// URLs, paging, pins, the retention policy; another user sees none of it; hostile queries
// get 400s and change nothing.
import { describe, expect, it } from "vitest";
import { renderFrame } from "../../scripts/sim/scene.ts";
import { ingestPhoto } from "../support/photos.ts";
import { activatedDevice, newUser, pairDevice, post, sql, stack } from "../support/stack.ts";
import { startWorker } from "../support/worker.ts";

interface Photo {
  item_id: string; device_id: string; seq: number; captured_at: string; status: string; width: number | null;
  thumbnail_url: string | null; preview_url: string | null; urls_expire_at: string | null;
  flags: { dark: boolean; blurry: boolean; duplicate: boolean }; hidden: boolean; pinned: boolean;
  moment_id: string | null; original_kept: boolean;
}

async function get<T>(route: string, token: string) {
  const res = await fetch(`${stack.api_base}/devices/${route}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() as T };
}
const photos = (token: string, q: Record<string, string>) =>
  get<{ photos: Photo[]; next_cursor: string | null; error?: { code: string; details?: unknown } }>(`photos?${new URLSearchParams(q)}`, token);
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

const DAY = Date.parse("2026-12-03T00:00:00Z");
const range = { from: new Date(DAY).toISOString(), to: new Date(DAY + 24 * 3600_000).toISOString() };

describe("owner photo routes", async () => {
  const cam = await activatedDevice();
  // bright, the same again (a duplicate), night (dark), walking (blurred), another bright one
  const frames = [40, 40, 88, 32, 60];
  const ids: string[] = [];
  for (const [k, f] of frames.entries()) {
    ids.push(await ingestPhoto(cam.token, k, (await renderFrame(f, 96)).jpeg, new Date(DAY + 8 * 3600_000 + k * 30_000)));
  }
  const pendingId = await ingestPhoto(cam.token, 9, (await renderFrame(50, 96)).jpeg, new Date(DAY + 9 * 3600_000));
  // everything but the last photo through the worker
  await sql`update public.processing_jobs set run_after = now() + interval '1 hour' where item_id = ${pendingId}`;
  const { code, stderr } = await startWorker(["--once", "--name", "owner-photos-test"]).done;
  if (code !== 0) throw new Error(stderr);

  it("lists the day in capture order with flags, moments and one batch of signed URLs, hiding flagged photos", async () => {
    const all = await photos(cam.user.token, { ...range, include_hidden: "true", device_id: cam.deviceId });
    expect(all.status).toBe(200);
    expect(all.body.photos.map((p) => p.item_id)).toEqual([...ids, pendingId]);
    const [first, dup, dark, blurry, last, pending] = all.body.photos;
    expect([first.flags, dup.flags.duplicate, dark.flags.dark, blurry.flags.blurry, last.flags])
      .toEqual([{ dark: false, blurry: false, duplicate: false }, true, true, true, { dark: false, blurry: false, duplicate: false }]);
    expect([dup.hidden, dark.hidden, blurry.hidden, first.hidden]).toEqual([true, true, true, false]);
    expect(first.moment_id).toBe(first.item_id);
    expect(dup.moment_id).toBe(first.item_id);
    expect(pending).toMatchObject({ status: "pending", thumbnail_url: null, preview_url: null, moment_id: null, hidden: false });
    expect(first).toMatchObject({ status: "processed", width: 800, original_kept: true, pinned: false });
    for (const url of [first.thumbnail_url!, first.preview_url!]) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(new TextDecoder().decode(bytes.subarray(8, 12))).toBe("WEBP");
    }
    expect(Date.parse(first.urls_expire_at!)).toBeGreaterThan(Date.now());
    const shown = await photos(cam.user.token, range);
    expect(shown.body.photos.map((p) => p.item_id)).toEqual([first.item_id, last.item_id, pendingId]);
  });

  it("pages with an opaque cursor: every photo once, in order", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const r = await photos(cam.user.token, { ...range, include_hidden: "true", limit: "2", ...(cursor ? { cursor } : {}) });
      expect(r.status).toBe(200);
      expect(r.body.photos.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.photos.map((p) => p.item_id));
      cursor = r.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([...ids, pendingId]);
  });

  it("pins a hidden photo into view and unpins it", async () => {
    const dark = ids[2];
    const pinned = await post<{ photo: Photo }>(`photos/${dark}/pin`, { pinned: true }, auth(cam.user.token));
    expect(pinned.status).toBe(200);
    expect(pinned.body.photo).toMatchObject({ item_id: dark, pinned: true, hidden: false, flags: { dark: true } });
    expect(pinned.body.photo.thumbnail_url).toMatch(/^http/);
    expect((await photos(cam.user.token, range)).body.photos.map((p) => p.item_id)).toContain(dark);
    const unpinned = await post<{ photo: Photo }>(`photos/${dark}/pin`, { pinned: false }, auth(cam.user.token));
    expect(unpinned.body.photo).toMatchObject({ pinned: false, hidden: true });
    const bad = await post<{ error: { code: string } }>(`photos/${dark}/pin`, { pinned: "yes" }, auth(cam.user.token));
    expect([bad.status, bad.body.error.code]).toEqual([400, "invalid_request"]);
  });

  it("reads and changes the retention policy, refusing bad values without changing it", async () => {
    const user = await newUser();
    expect((await get<{ policy: unknown }>("retention", user.token)).body)
      .toEqual({ policy: { originals_days: 30, hidden_grace_days: 7, quota_bytes: null } });
    const set = await post<{ policy: unknown }>("retention", { originals_days: 10, quota_bytes: 5_000_000 }, auth(user.token));
    expect(set.body).toEqual({ policy: { originals_days: 10, hidden_grace_days: 7, quota_bytes: 5_000_000 } });
    for (const bad of [{}, { originals_days: 0 }, { hidden_grace_days: -1 }, { quota_bytes: 0 }, { originals_days: 1.5 }, { keep: 1 }]) {
      const r = await post<{ error: { code: string } }>("retention", bad, auth(user.token));
      expect([r.status, r.body.error.code], JSON.stringify(bad)).toEqual([400, "invalid_request"]);
    }
    const cleared = await post<{ policy: unknown }>("retention", { quota_bytes: null }, auth(user.token));
    expect(cleared.body).toEqual({ policy: { originals_days: 10, hidden_grace_days: 7, quota_bytes: null } });
  });

  it("shows another user none of it: empty lists and 404s", async () => {
    const other = await newUser();
    await pairDevice(other.token); // a device of their own changes nothing
    const list = await photos(other.token, { ...range, include_hidden: "true" });
    expect(list.body).toEqual({ photos: [], next_cursor: null });
    const byDevice = await photos(other.token, { ...range, device_id: cam.deviceId });
    expect([byDevice.status, byDevice.body.error?.code]).toEqual([404, "device_not_found"]);
    const pin = await post<{ error: { code: string } }>(`photos/${ids[0]}/pin`, { pinned: true }, auth(other.token));
    expect([pin.status, pin.body.error.code]).toEqual([404, "photo_not_found"]);
    const [{ pins }] = await sql`select count(*)::int as pins from public.photo_pins where item_id = ${ids[0]}`;
    expect(pins).toBe(0);
    const missing = await post<{ error: { code: string } }>("photos/not-a-uuid/pin", { pinned: true }, auth(other.token));
    expect([missing.status, missing.body.error.code]).toEqual([404, "photo_not_found"]);
    expect((await get<{ policy: { originals_days: number } }>("retention", other.token)).body.policy.originals_days).toBe(30);
  });

  it("answers hostile queries with 400 invalid_request and details", async () => {
    const first = await photos(cam.user.token, { ...range, include_hidden: "true", limit: "1" });
    const otherRange = { from: new Date(DAY + 2 * 86400_000).toISOString(), to: new Date(DAY + 3 * 86400_000).toISOString() };
    const hostile: Record<string, string>[] = [
      { ...range, device_id: "not-a-uuid" },
      { ...range, from: "yesterday" },
      { ...range, from: "2026-12-03" },
      { from: range.to, to: range.from },
      { from: range.from, to: new Date(DAY + 32 * 86400_000).toISOString() },
      { ...range, limit: "0" },
      { ...range, limit: "10000" },
      { ...range, limit: "-1" },
      { ...range, limit: "2.5" },
      { ...range, include_hidden: "yes" },
      { ...range, cursor: "garbage" },
      { ...range, cursor: Buffer.from(JSON.stringify(["2026-12-03T08:00:00.000000Z", "x"])).toString("base64url") },
      { ...otherRange, cursor: first.body.next_cursor! },
      { ...range, sort: "desc" },
      { to: range.to },
    ];
    for (const q of hostile) {
      const r = await photos(cam.user.token, q);
      expect([r.status, r.body.error?.code], JSON.stringify(q)).toEqual([400, "invalid_request"]);
      expect(r.body.error?.details).toBeDefined();
    }
    const twice = await fetch(`${stack.api_base}/devices/photos?from=${range.from}&to=${range.to}&limit=1&limit=2`,
      { headers: auth(cam.user.token) });
    expect(twice.status).toBe(400);
    const noAuth = await fetch(`${stack.api_base}/devices/photos?${new URLSearchParams(range)}`);
    expect(noAuth.status).toBe(401);
  });
});
