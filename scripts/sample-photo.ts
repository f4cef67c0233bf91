// Real baseline JPEGs for walkthroughs and simulated cameras (jpeg-js, pure JS).
import jpeg from "jpeg-js";

/** A width×height JPEG whose pixels depend on `seed`, so each photo's bytes differ. */
export function makeJpeg(seed: number, width = 160, height = 120, quality = 80): Uint8Array {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 3 + seed * 37) & 0xff;
      data[i + 1] = (y * 5 + seed * 11) & 0xff;
      data[i + 2] = ((x ^ y) + seed * 7) & 0xff;
      data[i + 3] = 0xff;
    }
  }
  return new Uint8Array(jpeg.encode({ data, width, height }, quality).data);
}
