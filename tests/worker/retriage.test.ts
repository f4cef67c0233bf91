// The stored triage follows the rule whatever order the photos are processed in: photos
// recorded late (a camera's backlog, a worker that died) re-triage what follows them.
import { describe, expect, it } from "vitest";
import { retriageAll, retriageFrom } from "../../scripts/worker/retriage.ts";
import { TRIAGE, triagePhotos } from "../../scripts/worker/triage.ts";
import { insertPhotoRow } from "../support/photo-rows.ts";
import { activatedDevice, sql } from "../support/stack.ts";

function rng(seed: number) {
  let x = seed | 1;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 2 ** 32; };
}

describe("stored photo triage", () => {
  it("equals the rule over the whole sequence after photos are recorded in a shuffled order", () => recordShuffled(7, () => 1), 120_000);

  it("equals the rule when the shuffled photos are recorded in batches, as the worker completes them", () =>
    recordShuffled(11, (r) => 1 + Math.floor(r() * 8)), 120_000);
});

/** Records a device's photos in a shuffled order, `batchOf(r)` at a time, re-triaging after each batch. */
async function recordShuffled(seed: number, batchOf: (r: () => number) => number) {
    const cam = await activatedDevice();
    const r = rng(seed);
    const t0 = Date.parse("2026-12-02T07:00:00Z");
    // scenes of a few bits' drift, dark and blurry frames, and gaps
    let hash = 0n;
    let t = t0;
    const specs = Array.from({ length: 120 }, (_, seq) => {
      t += r() < 0.05 ? TRIAGE.momentGapMs + 60_000 : 30_000;
      if (r() < 0.1) hash = BigInt.asIntN(64, BigInt(Math.floor(r() * 2 ** 32)) << 32n | BigInt(Math.floor(r() * 2 ** 32)));
      else hash = BigInt.asIntN(64, hash ^ (1n << BigInt(Math.floor(r() * 64)))); // a bit of drift
      const kind = r();
      return { seq, capturedAt: new Date(t), dhash: hash, meanLuma: kind < 0.1 ? 5 : 120, sharpness: kind > 0.9 ? 4 : 300 };
    });
    const order = specs.map((_, i) => i).sort(() => r() - 0.5);
    const ids = new Array<string>(specs.length);
    let rewritten = 0;
    for (let at = 0; at < order.length;) {
      const batch = order.slice(at, at += batchOf(r));
      const rows: Array<{ itemId: string; capturedAt: Date }> = [];
      for (const i of batch) {
        rows.push({ itemId: (ids[i] = (await insertPhotoRow(sql, cam.user.id, cam.deviceId, specs[i])).id), capturedAt: specs[i].capturedAt });
      }
      rewritten += await sql.begin((tx) => (rows.length === 1 ? retriageFrom(tx, rows[0].itemId) : retriageAll(tx, rows)));
    }
    const expected = triagePhotos(specs.map((s, i) => ({
      itemId: ids[i], capturedAtMs: s.capturedAt.getTime(), meanLuma: s.meanLuma, sharpness: s.sharpness, dhash: s.dhash,
    })));
    const stored = await sql<{ item_id: string; dark: boolean; blurry: boolean; duplicate: boolean; moment_id: string }[]>`
      select item_id, dark, blurry, duplicate, moment_id from public.photo_triage where device_id = ${cam.deviceId}
       order by captured_at, item_id`;
    expect(stored.map((s) => ({ itemId: s.item_id, dark: s.dark, blurry: s.blurry, duplicate: s.duplicate, momentId: s.moment_id })))
      .toEqual(expected);
    // the sequence had all kinds, and late photos did make earlier rows change
    expect(new Set(expected.map((e) => e.momentId)).size).toBeGreaterThan(3);
    expect(expected.filter((e) => e.duplicate).length).toBeGreaterThan(10);
    expect(rewritten).toBeGreaterThan(specs.length);
}

