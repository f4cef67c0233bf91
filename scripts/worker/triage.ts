// Triage and moments of one device's photos in capture order. Pure: the worker's adapter
// (retriage.ts) feeds it rows and stores what it answers.
//
// - dark: mean luma below the threshold; blurry: not dark and too little Laplacian variance;
// - a moment starts at the device's first photo, after a capture gap, or at a scene change
//   (a usable photo far in dHash from the previous usable one);
// - duplicate: a usable photo close in dHash to the previous *kept* photo of its moment
//   (kept = usable and not a duplicate), so a long still stretch keeps one photo, not a
//   chain of photos each close to the one before.
// Pins do not change flags; they only stop a flagged photo from being hidden.
import { hammingDistance } from "./measures.ts";

/** Measured by `npm run bench:triage` on real photographs (tests/worker/triage.test.ts). */
export const TRIAGE = {
  darkBelowLuma: 16,
  blurryBelowSharpness: 26,
  duplicateWithinBits: 11,
  sceneChangeOverBits: 24,
  momentGapMs: 15 * 60_000,
} as const;

export interface MeasuredPhoto {
  itemId: string;
  capturedAtMs: number;
  meanLuma: number;
  sharpness: number;
  dhash: bigint;
}

export interface PhotoTriage {
  itemId: string;
  dark: boolean;
  blurry: boolean;
  duplicate: boolean;
  momentId: string;
}

/** What triaging the next photo needs to know of the ones before it. */
export interface TriageState {
  lastCapturedAtMs: number | null;
  lastUsableHash: bigint | null;
  lastKeptHash: bigint | null;
  momentId: string | null;
}

export const START: TriageState = { lastCapturedAtMs: null, lastUsableHash: null, lastKeptHash: null, momentId: null };

export function isKept(t: PhotoTriage): boolean {
  return !t.dark && !t.blurry && !t.duplicate;
}

export function triageNext(state: TriageState, p: MeasuredPhoto): { triage: PhotoTriage; state: TriageState } {
  const dark = p.meanLuma < TRIAGE.darkBelowLuma;
  const blurry = !dark && p.sharpness < TRIAGE.blurryBelowSharpness;
  const usable = !dark && !blurry;
  const gap = state.lastCapturedAtMs === null || p.capturedAtMs - state.lastCapturedAtMs > TRIAGE.momentGapMs;
  const sceneChange = usable && state.lastUsableHash !== null &&
    hammingDistance(p.dhash, state.lastUsableHash) > TRIAGE.sceneChangeOverBits;
  const newMoment = gap || sceneChange || state.momentId === null;
  const momentId = newMoment ? p.itemId : state.momentId!;
  const lastKeptHash = newMoment ? null : state.lastKeptHash;
  const duplicate = usable && lastKeptHash !== null && hammingDistance(p.dhash, lastKeptHash) <= TRIAGE.duplicateWithinBits;
  const triage = { itemId: p.itemId, dark, blurry, duplicate, momentId };
  return {
    triage,
    state: {
      lastCapturedAtMs: p.capturedAtMs,
      lastUsableHash: usable ? p.dhash : state.lastUsableHash,
      lastKeptHash: isKept(triage) ? p.dhash : lastKeptHash,
      momentId,
    },
  };
}

/** The photos (in capture order) triaged from `state` on. */
export function triagePhotos(photos: MeasuredPhoto[], state: TriageState = START): PhotoTriage[] {
  const out: PhotoTriage[] = [];
  for (const p of photos) {
    const next = triageNext(state, p);
    out.push(next.triage);
    state = next.state;
  }
  return out;
}
