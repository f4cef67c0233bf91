// Retention on a simulated clock over 60 days, with one user's photos in the real bucket:
// originals go after originals_days (sooner, oldest first, when the quota needs it),
// previews and thumbnails stay, hidden photos go after the grace unless pinned; a run that
// dies after deciding leaves its keys queued for the next one. After every day the
// bucket's objects and bytes equal what the tables say it holds.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStorageConfig } from "../../functions/_shared/config.ts";
import { createStorageDriver } from "../../functions/_shared/storage/index.ts";
import { applyRetention } from "../../scripts/worker/retention.ts";
import { retriageFrom } from "../../scripts/worker/retriage.ts";
import { localWorkerEnv } from "../../scripts/worker/stack-env.ts";
import { insertPhotoRow } from "../support/photo-rows.ts";
import { activatedDevice, post, sql, stack } from "../support/stack.ts";

const DAY_MS = 86_400_000;
const ORIGINAL = 4_000, PREVIEW = 900, THUMB = 200;
const POLICY = { originals_days: 10, hidden_grace_days: 7, quota_bytes: 250_000 };

/** Every object in the bucket with its size, from s3rver's folder on disk. */
async function bucketObjects(): Promise<Map<string, number>> {
  const root = join(stack.workDir, "objects", stack.storage.bucket);
  const found = new Map<string, number>();
  for (const entry of await readdir(root, { recursive: true })) {
    const m = /^(.*)\._S3rver_object$/.exec(entry);
    if (m) found.set(m[1], (await stat(join(root, entry))).size);
  }
  return found;
}

describe("retention over 60 simulated days", () => {
  it("keeps what the policy says and nothing else, and the bucket reconciles with the tables", async () => {
    const cam = await activatedDevice();
    const userId = cam.user.id;
    const set = await post("retention", POLICY, { authorization: `Bearer ${cam.user.token}` });
    expect(set.status).toBe(200);
    const store = createStorageDriver(loadStorageConfig(localWorkerEnv(stack)));
    const start = Date.parse("2027-01-01T00:00:00Z");
    const photos: { id: string; day: number; kind: string; pinned: boolean; original: string; preview: string; thumbnail: string }[] = [];
    const pinnedIds = new Set<string>();

    // the tables' view of this user's objects: originals not removed, derivative rows
    const expected = async () => {
      const rows = await sql<{ key: string; bytes: number }[]>`
        select i.storage_key as key, i.size_bytes::int as bytes from public.source_items i
         where i.user_id = ${userId} and not exists (select 1 from public.photo_removals r where r.item_id = i.id)
        union all select d.preview_key, d.preview_bytes from public.photo_derivatives d where d.user_id = ${userId}
        union all select d.thumbnail_key, d.thumbnail_bytes from public.photo_derivatives d where d.user_id = ${userId}`;
      return new Map(rows.map((r) => [r.key, r.bytes]));
    };
    const mine = async () => {
      const ids = new Set(photos.map((p) => p.id));
      const all = await bucketObjects();
      return new Map([...all].filter(([k]) => k.startsWith(`${userId}/`) || ids.has(k.split("/")[1])));
    };

    let crashedOnce = false;
    for (let day = 0; day <= 60; day++) {
      if (day < 60) {
        // a day: a scene, the same scene again (duplicate), a dark frame, another scene
        const scene = BigInt.asIntN(64, BigInt(day + 1) * 0x9e3779b97f4a7c15n);
        const other = BigInt.asIntN(64, ~scene);
        const kinds = [["kept", scene, 120], ["duplicate", scene, 120], ["dark", other, 4], ["kept", other, 120]] as const;
        for (const [k, [kind, dhash, luma]] of kinds.entries()) {
          const capturedAt = new Date(start + day * DAY_MS + 9 * 3600_000 + k * 60_000);
          const row = await insertPhotoRow(sql, userId, cam.deviceId, {
            seq: day * 10 + k, capturedAt, dhash, meanLuma: luma, sizeBytes: ORIGINAL, previewBytes: PREVIEW, thumbnailBytes: THUMB,
            processedAt: new Date(capturedAt.getTime() + 60_000),
          });
          await store.putObject(row.storageKey, new Uint8Array(ORIGINAL).fill(k), "image/jpeg");
          await store.putObject(row.previewKey!, new Uint8Array(PREVIEW).fill(k), "image/webp");
          await store.putObject(row.thumbnailKey!, new Uint8Array(THUMB).fill(k), "image/webp");
          await sql.begin((tx) => retriageFrom(tx, row.id));
          const pinned = kind !== "kept" && day % 5 === 0;
          if (pinned) {
            const r = await post(`photos/${row.id}/pin`, { pinned: true }, { authorization: `Bearer ${cam.user.token}` });
            expect(r.status).toBe(200);
            pinnedIds.add(row.id);
          }
          photos.push({ id: row.id, day, kind, pinned, original: row.storageKey, preview: row.previewKey!, thumbnail: row.thumbnailKey! });
        }
      }
      const now = new Date(start + day * DAY_MS + 23 * 3600_000);
      if (day === 30 && !crashedOnce) {
        // the decision commits, then the worker dies before deleting: the keys wait in the queue
        crashedOnce = true;
        const queued = await sql`select object_key from processing.apply_retention(p_now => ${now}, p_limit => 500)`;
        expect(queued.length).toBeGreaterThan(0);
        const objects = await mine();
        expect(queued.filter((q) => objects.has(q.object_key)).length).toBeGreaterThan(0);
        continue;
      }
      await applyRetention(sql, store, { now });

      const objects = await mine();
      expect(objects, `day ${day}`).toEqual(await expected());
      const used = [...objects.values()].reduce((a, b) => a + b, 0);
      expect(used, `day ${day}: quota`).toBeLessThanOrEqual(POLICY.quota_bytes);
      const age = (p: typeof photos[number]) => (now.getTime() - (start + p.day * DAY_MS + 9 * 3600_000)) / DAY_MS;
      for (const p of photos) {
        const hiddenGone = p.kind !== "kept" && !p.pinned && age(p) > POLICY.hidden_grace_days + 0.01;
        expect(objects.has(p.preview) && objects.has(p.thumbnail), `day ${day}: derivatives of ${p.kind} from day ${p.day}`)
          .toBe(!hiddenGone);
        if (age(p) > POLICY.originals_days) expect(objects.has(p.original), `day ${day}: original from day ${p.day}`).toBe(false);
        if (hiddenGone) expect(objects.has(p.original)).toBe(false);
      }
      // originals that the quota took are the oldest: the kept originals are the newest ones
      const kept = photos.filter((p) => objects.has(p.original)).map((p) => p.day);
      const takenByQuota = photos.filter((p) => !objects.has(p.original) && age(p) <= POLICY.originals_days &&
        !(p.kind !== "kept" && !p.pinned && age(p) > POLICY.hidden_grace_days));
      if (kept.length && takenByQuota.length) expect(Math.max(...takenByQuota.map((p) => p.day))).toBeLessThanOrEqual(Math.min(...kept));
    }

    // over the run: the quota did cut the originals window, pins kept hidden photos, the queue is empty
    const [{ quota }] = await sql`select count(*)::int as quota from public.photo_removals where user_id = ${userId} and reason = 'storage quota'`;
    expect(quota).toBeGreaterThan(0);
    const objects = await mine();
    const pinnedOld = photos.filter((p) => p.pinned && p.day < 40);
    expect(pinnedOld.length).toBeGreaterThan(0);
    for (const p of pinnedOld) expect(objects.has(p.preview), `pinned ${p.kind} of day ${p.day}`).toBe(true);
    expect(photos.filter((p) => p.kind !== "kept" && !p.pinned && objects.has(p.preview)).every((p) => p.day >= 53)).toBe(true);
    const [{ queued }] = await sql`select count(*)::int as queued from device_api.storage_deletions q
      where q.object_key like ${userId + "/%"} or q.object_key = any (${photos.flatMap((p) => [p.preview, p.thumbnail])})`;
    expect(queued).toBe(0);
    const bytes = [...objects.values()].reduce((a, b) => a + b, 0);
    const tableBytes = [...(await expected()).values()].reduce((a, b) => a + b, 0);
    expect(bytes).toBe(tableBytes);
    console.log(`retention 60 days: ${photos.length} photos, ${objects.size} objects = ${bytes} bytes kept (quota ${POLICY.quota_bytes}); ` +
      `${quota} originals taken early by the quota`);
  }, 600_000);
});
