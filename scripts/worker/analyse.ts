// One photo in, its derivatives and measurements out: the worker's image work, with sharp
// (libvips). The JPEG is decoded once, at preview size (libjpeg shrink-on-load), and
// everything else is made from that preview.
import sharp, { type Metadata, type Sharp } from "sharp";
import { DHASH_HEIGHT, DHASH_WIDTH, dhash, type Gray, laplacianVariance, meanLuma } from "./measures.ts";

export const PREVIEW_PX = 1024;
export const THUMBNAIL_PX = 320;
/** Sharpness is measured at this size, so it does not depend on the camera's resolution. */
export const MEASURE_PX = 512;
/** Far above any camera sensor here (5 MP); a header claiming more is refused before decoding. */
export const MAX_INPUT_PIXELS = 40_000_000;
export const DERIVATIVE_CONTENT_TYPE = "image/webp";

// Each job is decoded on one libvips thread; the worker runs jobs side by side instead.
sharp.concurrency(1);
sharp.cache(false);

export interface PhotoAnalysis {
  width: number;
  height: number;
  meanLuma: number;
  sharpness: number;
  dhash: bigint;
  preview: Uint8Array;
  thumbnail: Uint8Array;
}

/** A photo the worker cannot use; the message says why, in words, for fail_job. */
export class UnusablePhotoError extends Error {}

const input = (bytes: Uint8Array) =>
  sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, sequentialRead: true, failOn: "truncated" });

async function gray(rgb: Sharp, width: number, height: number, fit: "inside" | "fill"): Promise<Gray> {
  const { data, info } = await rgb.resize(width, height, { fit, withoutEnlargement: fit === "inside" })
    .greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

export async function analysePhoto(bytes: Uint8Array): Promise<PhotoAnalysis> {
  let meta: Metadata;
  try {
    // the header only: no pixel is decoded, so the limit is checked here in words
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new UnusablePhotoError(`not a readable image: ${reason(err)}`);
  }
  if (meta.format !== "jpeg") throw new UnusablePhotoError(`not a JPEG (the bytes read as ${meta.format ?? "nothing known"})`);
  const rawWidth = meta.width ?? 0;
  const rawHeight = meta.height ?? 0;
  if (rawWidth * rawHeight > MAX_INPUT_PIXELS) {
    throw new UnusablePhotoError(
      `the JPEG claims ${rawWidth} x ${rawHeight} pixels, more than the ${MAX_INPUT_PIXELS} a photo may have`);
  }
  const upright = (meta.orientation ?? 1) >= 5;
  const [width, height] = upright ? [rawHeight, rawWidth] : [rawWidth, rawHeight];

  try {
    const { data, info } = await input(bytes).rotate()
      .resize(PREVIEW_PX, PREVIEW_PX, { fit: "inside", withoutEnlargement: true })
      .removeAlpha().raw().toBuffer({ resolveWithObject: true });
    // a new instance per output over the same pixels: clone() would structuredClone them
    const rgb = () => sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
    const [preview, thumbnail, measured, tiny] = await Promise.all([
      rgb().webp({ quality: 75, effort: 2 }).toBuffer(),
      rgb().resize(THUMBNAIL_PX, THUMBNAIL_PX, { fit: "inside", withoutEnlargement: true }).webp({ quality: 70, effort: 2 }).toBuffer(),
      gray(rgb(), MEASURE_PX, MEASURE_PX, "inside"),
      gray(rgb(), DHASH_WIDTH, DHASH_HEIGHT, "fill"),
    ]);
    return {
      width,
      height,
      meanLuma: meanLuma(measured),
      sharpness: laplacianVariance(measured),
      dhash: dhash(tiny),
      preview: new Uint8Array(preview),
      thumbnail: new Uint8Array(thumbnail),
    };
  } catch (err) {
    throw new UnusablePhotoError(`the JPEG could not be decoded: ${reason(err)}`);
  }
}

function reason(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0].trim();
}
