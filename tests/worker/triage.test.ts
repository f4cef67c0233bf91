// Triage measured, not assumed: on the labelled set built from real photographs (skimage's
// samples, installed by scripts/setup.sh), the thresholds chosen from the data are the ones
// the worker's triage rule applies (scripts/worker/triage.ts), and each flag keeps precision
// and recall of at least 0.9.
import { describe, expect, it } from "vitest";
import { measureTriage, SKIMAGE_DATA } from "../../scripts/bench/triage.ts";
import { TRIAGE } from "../../scripts/worker/triage.ts";

describe("photo triage thresholds", () => {
  it("come from the labelled set and tell dark, blurry and near-duplicate photos apart", async () => {
    const m = await measureTriage(SKIMAGE_DATA);
    expect(m.files.length).toBeGreaterThanOrEqual(12);
    for (const flag of [m.dark, m.blurry, m.dup]) {
      expect(flag.precision).toBeGreaterThanOrEqual(0.9);
      expect(flag.recall).toBeGreaterThanOrEqual(0.9);
    }
    expect(TRIAGE.darkBelowLuma).toBe(m.dark.t);
    expect(TRIAGE.blurryBelowSharpness).toBe(m.blurry.t);
    expect(TRIAGE.duplicateWithinBits).toBe(m.dup.t - 1);
    console.log(`triage: dark < ${m.dark.t} P ${m.dark.precision} R ${m.dark.recall}; blurry < ${m.blurry.t} P ${m.blurry.precision} R ${m.blurry.recall}; ` +
      `duplicate <= ${m.dup.t - 1} P ${m.dup.precision} R ${m.dup.recall}`);
  }, 180_000);
});
