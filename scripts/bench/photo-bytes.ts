// `npm run bench:photo-bytes`: bytes kept per camera per month for the simulated day
// (scripts/sim/scene.ts), at one photo every 30 s (2,880 a day): the originals as sent,
// after derivatives (preview + thumbnail only), and under the default retention policy
// (originals 30 days, hidden photos 7 days). The day is rendered at --frames frames and its
// per-photo averages and hidden share scaled to 2,880; prices at --usd-per-gb-month.
//
//   npm run bench:photo-bytes -- [--frames 288] [--usd-per-gb-month 0.021]
import { parseArgs } from "node:util";
import { renderFrame } from "../sim/scene.ts";
import { analysePhoto } from "../worker/analyse.ts";
import { triagePhotos } from "../worker/triage.ts";

const { values: args } = parseArgs({ options: { frames: { type: "string", default: "288" }, "usd-per-gb-month": { type: "string", default: "0.021" } } });
const frames = Number(args.frames);
const price = Number(args["usd-per-gb-month"]);
const PER_DAY = 2880;
const DAYS = 30;

let original = 0, derivatives = 0;
const measured = [];
const sizes: number[] = [];
for (let i = 0; i < frames; i++) {
  const { jpeg } = await renderFrame(i, frames);
  const a = await analysePhoto(jpeg);
  original += jpeg.length;
  const d = a.preview.length + a.thumbnail.length;
  derivatives += d;
  sizes.push(d);
  measured.push({ itemId: String(i), capturedAtMs: (i * 86_400_000) / frames, meanLuma: a.meanLuma, sharpness: a.sharpness, dhash: a.dhash });
}
const triage = triagePhotos(measured);
const hidden = triage.map((t) => t.dark || t.blurry || t.duplicate);
const hiddenShare = hidden.filter(Boolean).length / frames;
const shownDerivatives = sizes.filter((_, i) => !hidden[i]).reduce((a, b) => a + b, 0);

const perPhoto = { original: original / frames, derivatives: derivatives / frames, shown: shownDerivatives / frames };
const month = (bytesPerPhoto: number) => bytesPerPhoto * PER_DAY * DAYS;
const raw = month(perPhoto.original);
const afterDerivatives = month(perPhoto.derivatives);
// under the default policy a camera holds 30 days of originals and 7 days of the hidden
// photos' derivatives at any time, plus every month's shown photos' derivatives for good
const policyHeld = raw + (month(perPhoto.derivatives - perPhoto.shown) * 7) / DAYS;
const policyPerMonthForGood = month(perPhoto.shown);
const gb = (b: number) => (b / 1e9).toFixed(2);
const usd = (b: number) => (price * b / 1e9).toFixed(2);

console.log(`simulated day: ${frames} frames, scaled to ${PER_DAY} photos a day; ${(hiddenShare * 100).toFixed(0)} % hidden ` +
  `(dark ${triage.filter((t) => t.dark).length}, blurry ${triage.filter((t) => t.blurry).length}, duplicate ${triage.filter((t) => t.duplicate).length}), ` +
  `${new Set(triage.map((t) => t.momentId)).size} moments`);
console.log(`per photo: original ${(perPhoto.original / 1e3).toFixed(1)} kB, preview + thumbnail ${(perPhoto.derivatives / 1e3).toFixed(1)} kB`);
console.log("| per camera, 30 days of capture | GB | USD / month at $" + price + "/GB-month |");
console.log("|---|---|---|");
console.log(`| raw originals | ${gb(raw)} | ${usd(raw)} |`);
console.log(`| after derivatives (preview + thumbnail only) | ${gb(afterDerivatives)} | ${usd(afterDerivatives)} |`);
console.log(`| default policy, held at any time (30 days of originals + 7 days of hidden derivatives) | ${gb(policyHeld)} | ${usd(policyHeld)} |`);
console.log(`| default policy, added for good per month (shown photos' derivatives) | ${gb(policyPerMonthForGood)} | ${usd(policyPerMonthForGood)} |`);
