// The photo worker against the local stack: derivatives and measurements for real JPEGs,
// and photos it cannot use failed with their reason while it goes on.
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { renderFrame } from "../../scripts/sim/scene.ts";
import { ingestPhoto, withClaimedSize } from "../support/photos.ts";
import { activatedDevice, fakeJpeg, getObject, sql } from "../support/stack.ts";
import { derivativeObjects, startWorker } from "../support/worker.ts";

describe("photo worker", () => {
  it("makes a preview and a thumbnail of each photo, fails unusable ones with a reason, and goes on", async () => {
    const cam = await activatedDevice();
    const day = Date.parse("2026-12-01T00:00:00Z");
    const good: string[] = [];
    const frames = [40, 32, 88]; // a day's frames: bright, blurred (walking), dark (night)
    for (const [k, i] of frames.entries()) {
      good.push(await ingestPhoto(cam.token, k, (await renderFrame(i, 96)).jpeg, new Date(day + k * 30_000)));
    }
    const real = (await renderFrame(44, 96)).jpeg;
    const bad = {
      truncated: await ingestPhoto(cam.token, 10, real.subarray(0, Math.floor(real.length / 2)), new Date(day)),
      notJpeg: await ingestPhoto(cam.token, 11, fakeJpeg(30_000, 0.5), new Date(day)),
      bomb: await ingestPhoto(cam.token, 12, withClaimedSize(real, 65_000, 65_000), new Date(day)),
    };
    // one more good photo after the bad ones: the worker did not stall on them
    good.push(await ingestPhoto(cam.token, 13, (await renderFrame(60, 96)).jpeg, new Date(day + 13 * 30_000)));

    const { done } = startWorker(["--once", "--name", "worker-test", "--concurrency", "2"]);
    const { code, stdout, stderr } = await done;
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(summary.dead).toBeGreaterThanOrEqual(3);
    expect(summary.peak_rss_mb).toBeLessThan(400);

    const rows = await sql`select d.*, i.status from public.photo_derivatives d join public.source_items i on i.id = d.item_id
                            where d.item_id = any (${good})`;
    expect(rows).toHaveLength(good.length);
    const objects = await derivativeObjects();
    for (const row of rows) {
      expect(row.status).toBe("processed");
      expect([row.width, row.height]).toEqual([800, 600]);
      expect(objects.get(row.preview_key)).toBe(row.preview_bytes);
      expect(objects.get(row.thumbnail_key)).toBe(row.thumbnail_bytes);
      const thumb = await sharp(await getObject(row.thumbnail_key) as Uint8Array).metadata();
      expect([thumb.format, thumb.width, thumb.height]).toEqual(["webp", 320, 240]);
      const preview = await sharp(await getObject(row.preview_key) as Uint8Array).metadata();
      expect([preview.format, preview.width]).toEqual(["webp", 800]); // never enlarged
    }
    const byItem = new Map(rows.map((r) => [r.item_id, r]));
    const [bright, blurred, night] = good.map((id) => byItem.get(id)!);
    expect(night.mean_luma).toBeLessThan(20);
    expect(bright.mean_luma).toBeGreaterThan(80);
    expect(blurred.sharpness).toBeLessThan(bright.sharpness / 20);

    const jobs = await sql<{ item_id: string; status: string; last_error: string }[]>`
      select item_id, status, last_error from public.processing_jobs where item_id = any (${Object.values(bad)})`;
    const reason = (id: string) => jobs.find((j) => j.item_id === id)!;
    for (const j of jobs) expect(j.status).toBe("dead");
    expect(reason(bad.truncated).last_error).toMatch(/the JPEG could not be decoded: /);
    expect(reason(bad.notJpeg).last_error).toMatch(/not a readable image|could not be decoded/);
    expect(reason(bad.bomb).last_error).toMatch(/65000 x 65000 pixels, more than the 40000000/);
    const [{ n }] = await sql`select count(*)::int as n from public.photo_derivatives where item_id = any (${Object.values(bad)})`;
    expect(n).toBe(0);
    for (const id of Object.values(bad)) expect(objects.has(`derivatives/${id}/preview.webp`)).toBe(false);
  }, 180_000);
});
