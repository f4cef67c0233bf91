// The triage rule on hand-made sequences: which photo is dark, blurry or a near-duplicate
// of the previous kept one, and where moments start.
import { describe, expect, it } from "vitest";
import { type MeasuredPhoto, TRIAGE, triagePhotos } from "../../scripts/worker/triage.ts";

const T0 = Date.parse("2026-12-01T08:00:00Z");
let n = 0;
/** a photo `s` seconds into the day whose hash has the lowest `bits` bits set */
function photo(s: number, bits: number, o: Partial<MeasuredPhoto> = {}): MeasuredPhoto {
  return { itemId: `p${n++}`, capturedAtMs: T0 + s * 1000, meanLuma: 120, sharpness: 300, dhash: (1n << BigInt(bits)) - 1n, ...o };
}
const flags = (ps: MeasuredPhoto[]) =>
  triagePhotos(ps).map((t) => (t.dark ? "D" : t.blurry ? "B" : t.duplicate ? "=" : "K"));

describe("photo triage", () => {
  it("compares a photo with the previous kept one, not the one just before", () => {
    // each photo is 8 bits from the one before (a slow pan): chained, all would be duplicates;
    // against the last kept photo every second one is new again
    const pan = [0, 8, 16, 24].map((b, i) => photo(i * 30, b));
    // 0 and 8 are 8 bits apart (duplicate), 0 and 16 are 16 apart (kept), 16 and 24 are 8 apart
    expect(flags(pan)).toEqual(["K", "=", "K", "="]);
  });

  it("keeps one photo of a still stretch and does not let dark or blurry frames break it", () => {
    const still = [
      photo(0, 20), photo(30, 21), photo(60, 20, { meanLuma: 5 }), photo(90, 22, { sharpness: 3 }), photo(120, 19),
    ];
    expect(flags(still)).toEqual(["K", "=", "D", "B", "="]);
  });

  it("flags dark before blurry, at the measured thresholds", () => {
    const t = triagePhotos([
      photo(0, 0, { meanLuma: TRIAGE.darkBelowLuma - 0.1, sharpness: 1 }),
      photo(30, 40, { meanLuma: TRIAGE.darkBelowLuma, sharpness: TRIAGE.blurryBelowSharpness - 0.1 }),
      photo(60, 40, { sharpness: TRIAGE.blurryBelowSharpness }),
    ]);
    expect(t.map((x) => [x.dark, x.blurry])).toEqual([[true, false], [false, true], [false, false]]);
  });

  it("starts moments at a capture gap and at a scene change, and restarts duplicate checks there", () => {
    const gapS = TRIAGE.momentGapMs / 1000;
    const ps = [
      photo(0, 10), photo(30, 10),                           // moment 1: a photo and its duplicate
      photo(30 + gapS + 1, 10),                              // after a gap: new moment, kept although identical
      photo(60 + gapS, 10 + TRIAGE.sceneChangeOverBits + 1, { dhash: ~((1n << 10n) - 1n) }), // scene change
      photo(90 + gapS, 0, { dhash: ~((1n << 10n) - 1n), meanLuma: 3 }), // dark: stays in its moment
    ];
    const t = triagePhotos(ps);
    expect(t.map((x) => x.momentId)).toEqual([ps[0].itemId, ps[0].itemId, ps[2].itemId, ps[3].itemId, ps[3].itemId]);
    expect(flags(ps)).toEqual(["K", "=", "K", "K", "D"]);
  });

  it("does not cut a moment at a dark frame whose hash is far from the scene", () => {
    const ps = [photo(0, 5), photo(30, 60, { meanLuma: 2 }), photo(60, 6)];
    const t = triagePhotos(ps);
    expect(new Set(t.map((x) => x.momentId)).size).toBe(1);
    expect(flags(ps)).toEqual(["K", "D", "="]);
  });
});
