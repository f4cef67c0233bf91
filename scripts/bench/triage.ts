// `npm run bench:triage`: how well the worker's measurements tell dark, blurry and
// near-duplicate photos, on real photographs (the samples Debian's python3-skimage ships)
// and copies made from them: darkened, blurred, and shifted + noised (a near-duplicate of
// the original). Each threshold is swept over the data and the one with the best F1 chosen;
// the chosen thresholds are the ones in scripts/worker/triage.ts (TRIAGE). Prints
// precision and recall for each.
//
//   npm run bench:triage -- [--dir /usr/lib/python3/dist-packages/skimage/data]
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import sharp, { type Sharp } from "sharp";
import { analysePhoto, type PhotoAnalysis } from "../worker/analyse.ts";
import { hammingDistance } from "../worker/measures.ts";

// The photographs among the samples (the rest are synthetic patterns, text or microscopy).
const PHOTOS = ["astronaut.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "moon.png", "rocket.jpg",
  "motorcycle_left.png", "horse.png", "brick.png", "grass.png", "gravel.png", "page.png", "retina.jpg",
  "hubble_deep_field.jpg", "ihc.png"];

interface Sample { base: string; kind: "original" | "dark" | "blurry" | "shifted"; a: PhotoAnalysis }

const jpeg = async (img: Sharp) => new Uint8Array(await img.jpeg({ quality: 80 }).toBuffer());

function rng(seed: number) {
  let x = seed | 1;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return ((x >>> 0) / 2 ** 32); };
}

async function variants(file: string, seed: number): Promise<Sample[]> {
  const r = rng(seed);
  // as the camera would see it: 800 x 600, colour
  const base = await sharp(file).removeAlpha().toColourspace("srgb").resize(800, 600, { fit: "cover" }).png().toBuffer();
  const out: Sample[] = [];
  const add = async (kind: Sample["kind"], img: Sharp) => out.push({ base: file, kind, a: await analysePhoto(await jpeg(img)) });
  await add("original", sharp(base));
  await add("dark", sharp(base).linear(0.06 + 0.12 * r(), 0)); // lens covered, night
  await add("blurry", sharp(base).blur(2.5 + 4 * r())); // motion, focus
  const dx = Math.round(8 + 24 * r());
  const dy = Math.round(6 + 18 * r());
  // sensor noise, seeded so every run measures the same copies
  const grain = Buffer.alloc(800 * 600 * 3);
  for (let i = 0; i < grain.length; i++) grain[i] = 128 + Math.round((r() + r() + r() - 1.5) * 24);
  const noise = await sharp(grain, { raw: { width: 800, height: 600, channels: 3 } }).png().toBuffer();
  const shifted = await sharp(base).extend({ left: dx, top: dy, extendWith: "mirror" }).extract({ left: 0, top: 0, width: 800, height: 600 }).png().toBuffer();
  await add("shifted", sharp(shifted).composite([{ input: noise, blend: "overlay" }]).linear(0.9 + 0.2 * r(), 0));
  return out;
}

function score(predicted: boolean[], actual: boolean[]) {
  let tp = 0, fp = 0, fn = 0;
  predicted.forEach((p, i) => { if (p && actual[i]) tp++; else if (p) fp++; else if (actual[i]) fn++; });
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = tp + fn ? tp / (tp + fn) : 1;
  return { tp, fp, fn, precision, recall, f1: precision + recall ? 2 * precision * recall / (precision + recall) : 0 };
}

/** The threshold with the best F1 for "value below threshold": the middle one of those that tie. */
function choose(values: number[], actual: boolean[], candidates: number[]) {
  const scored = candidates.map((t) => ({ t, ...score(values.map((v) => v < t), actual) }));
  const bestF1 = Math.max(...scored.map((s) => s.f1));
  const ties = scored.filter((s) => s.f1 === bestF1);
  return ties[Math.floor(ties.length / 2)];
}

export const SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data";

/** The labelled set built from `dir`'s photographs, and the threshold chosen for each flag. */
export async function measureTriage(dir: string) {
  const available = new Set(await readdir(dir).catch(() => [] as string[]));
  const files = PHOTOS.filter((f) => available.has(f)).map((f) => join(dir, f));
  if (files.length < 8) throw new Error(`too few sample photos in ${dir}: install python3-skimage (scripts/setup.sh does)`);
  const samples: Sample[] = [];
  for (const [i, f] of files.entries()) samples.push(...await variants(f, 7 + i));

  const range = (from: number, to: number, step: number) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);
  const dark = choose(samples.map((s) => s.a.meanLuma), samples.map((s) => s.kind === "dark"), range(5, 80, 1));
  const blurry = choose(samples.filter((s) => s.kind !== "dark").map((s) => s.a.sharpness),
    samples.filter((s) => s.kind !== "dark").map((s) => s.kind === "blurry"), range(2, 300, 2));
  // near-duplicate pairs: each original with its shifted copy (positive) and with every other
  // photo's original and shifted copy (negative)
  const originals = samples.filter((s) => s.kind === "original");
  const pairs: { d: number; same: boolean }[] = [];
  for (const o of originals) {
    for (const s of samples.filter((x) => x.kind === "original" || x.kind === "shifted")) {
      if (s === o) continue;
      pairs.push({ d: hammingDistance(o.a.dhash, s.a.dhash), same: s.base === o.base });
    }
  }
  const dup = choose(pairs.map((p) => p.d + 0.5), pairs.map((p) => p.same), range(1, 32, 1));
  return { files, samples, pairs, dark, blurry, dup };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: args } = parseArgs({ options: { dir: { type: "string", default: SKIMAGE_DATA } } });
  const { files, samples, pairs, dark, blurry, dup } = await measureTriage(args.dir);
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  console.log(`\n${files.length} photographs from ${args.dir}, ${samples.length} photos with their copies, ${pairs.length} pairs\n`);
  console.log("| flag | measure | threshold (best F1) | precision | recall | tp / fp / fn |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  console.log(`| dark | mean luma | < ${dark.t} | ${pct(dark.precision)} | ${pct(dark.recall)} | ${dark.tp} / ${dark.fp} / ${dark.fn} |`);
  console.log(`| blurry | Laplacian variance at 512 px (dark ones aside) | < ${blurry.t} | ${pct(blurry.precision)} | ${pct(blurry.recall)} | ${blurry.tp} / ${blurry.fp} / ${blurry.fn} |`);
  console.log(`| near-duplicate | dHash Hamming distance | <= ${dup.t - 1} | ${pct(dup.precision)} | ${pct(dup.recall)} | ${dup.tp} / ${dup.fp} / ${dup.fn} |`);
  const misses = samples.filter((s) => (s.kind === "dark") !== (s.a.meanLuma < dark.t) || (s.kind !== "dark" && (s.kind === "blurry") !== (s.a.sharpness < blurry.t)));
  for (const m of misses) console.log(`  missed: ${m.base.split("/").at(-1)} ${m.kind}: luma ${m.a.meanLuma.toFixed(1)}, sharpness ${m.a.sharpness.toFixed(1)}`);
}
