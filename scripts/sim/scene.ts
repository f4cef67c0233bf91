// A simulated camera's day as real JPEGs: a street scene whose light follows the clock,
// with night and a covered lens (dark), walking (motion blur), sitting at a desk (static
// frames) and a change of place every few hours (moments). Deterministic: frame i of a
// day of n is always the same bytes. Each frame carries what it was made to be.
import sharp from "sharp";

export const FRAME_WIDTH = 800;
export const FRAME_HEIGHT = 600;

export interface FrameLabel {
  /** hour of the simulated day, 0..24 */
  hour: number;
  place: number;
  dark: boolean;
  blurry: boolean;
  /** the camera did not move: the scene is the previous frame's */
  still: boolean;
}

function rng(seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

/** What frame i of n shows: the schedule of the simulated day. */
export function frameLabel(i: number, n: number): FrameLabel {
  const hour = (24 * i) / n;
  const night = hour < 6 || hour >= 21.5;
  const covered = hour >= 13 && hour < 13.5; // lens in a pocket
  const walking = (hour >= 8 && hour < 8.75) || (hour >= 17.5 && hour < 18.25);
  const desk = hour >= 10 && hour < 12;
  return { hour, place: Math.floor(hour / 3), dark: night || covered, blurry: walking && !night, still: desk };
}

function svgFor(label: FrameLabel, i: number): string {
  const r = rng(1000 + label.place);
  const light = label.dark ? 0.06 : 0.35 + 0.65 * Math.sin(Math.PI * Math.min(1, Math.max(0, (label.hour - 5) / 17)));
  const shade = (c: number) => Math.round(c * light);
  const hue = Math.floor(r() * 360);
  const parts: string[] = [
    `<rect width="${FRAME_WIDTH}" height="${FRAME_HEIGHT}" fill="rgb(${shade(120)},${shade(170)},${shade(230)})"/>`,
    `<rect y="${FRAME_HEIGHT * 0.7}" width="${FRAME_WIDTH}" height="${FRAME_HEIGHT * 0.3}" fill="rgb(${shade(90)},${shade(90)},${shade(95)})"/>`,
  ];
  // the place's buildings and windows; the view drifts a little from frame to frame unless still
  const drift = label.still ? 0 : Math.round(((i * 7) % 40) - 20);
  for (let b = 0; b < 9; b++) {
    const x = Math.round(r() * FRAME_WIDTH) + drift;
    const w = 60 + Math.round(r() * 140);
    const h = 120 + Math.round(r() * 280);
    const y = Math.round(FRAME_HEIGHT * 0.7 - h);
    const l = 30 + Math.round(r() * 40);
    parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="hsl(${(hue + b * 37) % 360},40%,${Math.round(l * light)}%)"/>`);
    for (let wy = y + 12; wy < y + h - 20; wy += 28) {
      for (let wx = x + 10; wx < x + w - 16; wx += 22) {
        parts.push(`<rect x="${wx}" y="${wy}" width="10" height="14" fill="rgb(${shade(240)},${shade(230)},${shade(150)})"/>`);
      }
    }
  }
  if (!label.still) {
    // people and cars: what changes between two frames of the same place
    const m = rng(i + 1);
    for (let k = 0; k < 4; k++) {
      const x = Math.round(m() * FRAME_WIDTH);
      parts.push(`<rect x="${x}" y="${Math.round(FRAME_HEIGHT * 0.72 + m() * 100)}" width="${30 + Math.round(m() * 70)}" height="${20 + Math.round(m() * 30)}" fill="hsl(${Math.round(m() * 360)},70%,${Math.round(45 * light)}%)"/>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${FRAME_WIDTH}" height="${FRAME_HEIGHT}">${parts.join("")}</svg>`;
}

/** Frame i of a day of n frames, as the camera's JPEG. */
export async function renderFrame(i: number, n: number): Promise<{ jpeg: Uint8Array; label: FrameLabel }> {
  const label = frameLabel(i, n);
  let img = sharp(Buffer.from(svgFor(label, i)));
  if (label.blurry) img = sharp(await img.png().toBuffer()).blur(9);
  const jpeg = await img.jpeg({ quality: 80 }).toBuffer();
  return { jpeg: new Uint8Array(jpeg), label };
}
