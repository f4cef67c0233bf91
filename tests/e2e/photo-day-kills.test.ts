// A simulated camera's day (576 real frames, one every 150 s) through the whole path:
// upload, ingest, the photo worker, while the worker is SIGKILLed again and again. After it:
// every photo has exactly one set of derivatives, no job is lost, and the bucket's
// derivative objects are exactly the tables' (keys and bytes).
import { describe, expect, it } from "vitest";
import { frameLabel, renderFrame } from "../../scripts/sim/scene.ts";
import { ingestPhotos } from "../support/photos.ts";
import { activatedDevice, sql } from "../support/stack.ts";
import { derivativeObjects, derivativeRows, startWorker } from "../support/worker.ts";

const FRAMES = Number(process.env.PHOTO_DAY_FRAMES ?? 576);
const KILLS = Number(process.env.PHOTO_DAY_KILLS ?? 12);
const WORKER = ["--name", "killed-worker", "--concurrency", "2", "--lease-seconds", "600"];

async function processedOf(deviceId: string): Promise<number> {
  const [{ n }] = await sql`select count(*)::int as n from public.photo_derivatives where device_id = ${deviceId}`;
  return n;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a camera's day through the photo worker, killed at random points", () => {
  it("ends with exactly one set of derivatives per photo and a bucket that matches the tables", async () => {
    const cam = await activatedDevice();
    const start = Date.parse("2026-12-02T00:00:00Z");
    const photos = [];
    for (let i = 0; i < FRAMES; i++) {
      photos.push({ seq: i, jpeg: (await renderFrame(i, FRAMES)).jpeg, capturedAt: new Date(start + i * 150_000) });
    }
    const items = await ingestPhotos(cam.token, photos);
    expect(new Set(items).size).toBe(FRAMES);

    // Kill after some progress (the worker's own conditions, not a clock), plus a random delay.
    let kills = 0;
    while (kills < KILLS) {
      const before = await processedOf(cam.deviceId);
      if (before >= FRAMES - 10) break; // too little work left for a kill to land in
      const w = startWorker(WORKER);
      await waitFor("progress", async () => (await processedOf(cam.deviceId)) >= before + 3);
      await new Promise((r) => setTimeout(r, Math.random() * 400));
      w.child.kill("SIGKILL");
      await w.done;
      kills++;
    }
    expect(kills).toBe(KILLS);

    const last = startWorker(["--once", ...WORKER]);
    const { code, stderr } = await last.done;
    expect(code, stderr).toBe(0);

    const [jobs] = await sql`
      select count(*)::int as jobs, count(*) filter (where j.status = 'done')::int as done,
             count(*) filter (where j.attempts > 1)::int as rerun, max(j.attempts)::int as most
        from public.processing_jobs j join public.source_items i on i.id = j.item_id where i.device_id = ${cam.deviceId}`;
    expect(jobs.jobs).toBe(FRAMES);
    expect(jobs.done).toBe(FRAMES);
    expect(jobs.rerun).toBeGreaterThan(0); // kills landed in jobs, which ran again
    expect(await processedOf(cam.deviceId)).toBe(FRAMES);

    const [{ pending }] = await sql`select count(*)::int as pending from processing.derivative_uploads u
                                      join public.source_items i on i.id = u.item_id where i.device_id = ${cam.deviceId}`;
    expect(pending).toBe(0);
    // This camera's photos only: other suites on the shared stack make derivatives of their own.
    const ours = new Set(items.map((id) => `derivatives/${id}/`));
    const mine = <V>(m: Map<string, V>) => new Map([...m].filter(([k]) => ours.has(k.slice(0, k.lastIndexOf("/") + 1))));
    const objects = mine(await derivativeObjects());
    const rows = mine(await derivativeRows());
    expect(rows.size).toBe(2 * FRAMES);
    const [{ queued }] = await sql`select count(*)::int as queued from device_api.storage_deletions where object_key like 'derivatives/%'`;
    expect(queued).toBe(0);
    expect([...objects.keys()].filter((k) => !rows.has(k))).toEqual([]); // no object without a row
    expect([...rows.keys()].filter((k) => !objects.has(k))).toEqual([]); // no row without its object
    for (const [key, bytes] of rows) expect(objects.get(key), key).toBe(bytes);
    // triage of the day against what each frame was made to be
    const triage = await sql<{ item_id: string; dark: boolean; blurry: boolean; duplicate: boolean; moment_id: string }[]>`
      select item_id, dark, blurry, duplicate, moment_id from public.photo_triage where device_id = ${cam.deviceId}`;
    const byItem = new Map(triage.map((t) => [t.item_id, t]));
    const labels = items.map((id, i) => ({ t: byItem.get(id)!, label: frameLabel(i, FRAMES), prev: i ? frameLabel(i - 1, FRAMES) : null }));
    const pr = (flag: (x: typeof labels[number]) => boolean, truth: (x: typeof labels[number]) => boolean) => {
      const tp = labels.filter((x) => flag(x) && truth(x)).length;
      return { precision: tp / Math.max(1, labels.filter(flag).length), recall: tp / Math.max(1, labels.filter(truth).length) };
    };
    const dark = pr((x) => x.t.dark, (x) => x.label.dark);
    const blurry = pr((x) => x.t.blurry, (x) => x.label.blurry);
    const still = pr((x) => x.t.duplicate, (x) => x.label.still && !!x.prev?.still);
    const moments = new Set(triage.map((t) => t.moment_id)).size;
    console.log(`photo day triage: dark P ${dark.precision.toFixed(2)} R ${dark.recall.toFixed(2)}, blurry P ${blurry.precision.toFixed(2)} ` +
      `R ${blurry.recall.toFixed(2)}, still duplicates P ${still.precision.toFixed(2)} R ${still.recall.toFixed(2)}, ${moments} moments`);
    expect(dark).toEqual({ precision: 1, recall: 1 });
    expect(blurry.recall).toBe(1);
    expect(still.recall).toBeGreaterThan(0.9);
    expect(moments).toBeGreaterThan(1);
    console.log(`photo day: ${FRAMES} photos, ${kills} SIGKILLs, ${jobs.rerun} jobs ran again (at most ${jobs.most} attempts of 5), ` +
      `${rows.size} derivative objects = ${rows.size} row keys`);
  }, 900_000);
});
