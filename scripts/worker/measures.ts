// What the worker measures on a photo's luma (one byte per pixel, row-major). Pure.

export interface Gray {
  data: Uint8Array;
  width: number;
  height: number;
}

export function meanLuma(g: Gray): number {
  let sum = 0;
  for (let i = 0; i < g.data.length; i++) sum += g.data[i];
  return g.data.length ? sum / g.data.length : 0;
}

/** Variance of the 4-neighbour Laplacian over the inner pixels: edges make it large, blur small. */
export function laplacianVariance(g: Gray): number {
  const { data, width: w, height: h } = g;
  if (w < 3 || h < 3) return 0;
  let sum = 0;
  let sumSq = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const v = data[i - w] + data[i + w] + data[i - 1] + data[i + 1] - 4 * data[i];
      sum += v;
      sumSq += v * v;
    }
  }
  const n = (w - 2) * (h - 2);
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

export const DHASH_WIDTH = 9;
export const DHASH_HEIGHT = 8;

/** Difference hash of a 9x8 luma image: bit = left pixel brighter than its right neighbour,
 * row by row, as a signed 64-bit integer (Postgres bigint). */
export function dhash(g: Gray): bigint {
  if (g.width !== DHASH_WIDTH || g.height !== DHASH_HEIGHT) throw new Error("dhash needs a 9x8 image");
  let bits = 0n;
  for (let y = 0; y < DHASH_HEIGHT; y++) {
    for (let x = 0; x < DHASH_WIDTH - 1; x++) {
      const i = y * DHASH_WIDTH + x;
      bits = (bits << 1n) | (g.data[i] > g.data[i + 1] ? 1n : 0n);
    }
  }
  return BigInt.asIntN(64, bits);
}

export function hammingDistance(a: bigint, b: bigint): number {
  let x = BigInt.asUintN(64, a ^ b);
  let n = 0;
  while (x) {
    n += Number(x & 1n);
    x >>= 1n;
  }
  return n;
}
