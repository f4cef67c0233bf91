// Triage measured, not assumed: on the labelled set built from real photographs (skimage's
// samples, installed by scripts/setup.sh), the thresholds chosen from the data are the ones
// the photo_triage view applies, and each flag keeps precision and recall of at least 0.9.
import { describe, expect, it } from "vitest";
import { measureTriage, SKIMAGE_DATA } from "../../scripts/bench/triage.ts";
import { sql } from "../support/stack.ts";

describe("photo triage thresholds", () => {
  it("come from the labelled set and tell dark, blurry and near-duplicate photos apart", async () => {
    const m = await measureTriage(SKIMAGE_DATA);
    expect(m.files.length).toBeGreaterThanOrEqual(12);
    for (const flag of [m.dark, m.blurry, m.dup]) {
      expect(flag.precision).toBeGreaterThanOrEqual(0.9);
      expect(flag.recall).toBeGreaterThanOrEqual(0.9);
    }
    const [{ def }] = await sql`select pg_get_viewdef('public.photo_triage'::regclass) as def`;
    const squashed = String(def).replace(/\s+/g, " ");
    expect(squashed).toContain(`mean_luma < (${m.dark.t})::double precision`);
    expect(squashed).toContain(`sharpness < (${m.blurry.t})::double precision`);
    expect(squashed).toContain(`(distance <= ${m.dup.t - 1})`);
    console.log(`triage: dark < ${m.dark.t} P ${m.dark.precision} R ${m.dark.recall}; blurry < ${m.blurry.t} P ${m.blurry.precision} R ${m.blurry.recall}; ` +
      `duplicate <= ${m.dup.t - 1} P ${m.dup.precision} R ${m.dup.recall}`);
  }, 180_000);
});
