// The Photos timeline as data: photos grouped into moments, laid out in rows of thumbnails,
// and the rows a scroll position shows. Pure, so virtualization is tested without a browser.
import type { Photo } from "./api.ts";

export interface Moment { id: string; start: string; end: string; photos: Photo[] }
export type Row =
  | { kind: "header"; top: number; height: number; moment: Moment }
  | { kind: "photos"; top: number; height: number; photos: Photo[] };

/** A gap this long starts a new moment when the pipeline has not assigned moments yet. */
export const MOMENT_GAP_MS = 10 * 60_000;

export function groupMoments(photos: Photo[]): Moment[] {
  const moments: Moment[] = [];
  let current: Moment | undefined;
  let lastAt = -Infinity;
  for (const p of photos) {
    const at = Date.parse(p.captured_at);
    const sameMoment = current && (p.moment_id !== null ? p.moment_id === current.id : current.id.startsWith("gap:") && at - lastAt < MOMENT_GAP_MS);
    if (!current || !sameMoment) {
      current = { id: p.moment_id ?? `gap:${p.item_id}`, start: p.captured_at, end: p.captured_at, photos: [] };
      moments.push(current);
    }
    current.photos.push(p);
    current.end = p.captured_at;
    lastAt = at;
  }
  return moments;
}

export function layoutRows(moments: Moment[], columns: number, tile: number, headerHeight: number): { rows: Row[]; height: number } {
  const rows: Row[] = [];
  let top = 0;
  for (const moment of moments) {
    rows.push({ kind: "header", top, height: headerHeight, moment });
    top += headerHeight;
    for (let i = 0; i < moment.photos.length; i += columns) {
      rows.push({ kind: "photos", top, height: tile, photos: moment.photos.slice(i, i + columns) });
      top += tile;
    }
  }
  return { rows, height: top };
}

/** Indices [first, last) of the rows overlapping the viewport, plus `overscan` px either side. */
export function visibleRows(rows: Row[], scrollTop: number, viewport: number, overscan: number): [number, number] {
  const lo = scrollTop - overscan;
  const hi = scrollTop + viewport + overscan;
  let a = 0;
  let b = rows.length;
  while (a < b) { // first row ending after lo
    const m = (a + b) >> 1;
    if (rows[m].top + rows[m].height <= lo) a = m + 1; else b = m;
  }
  let last = a;
  while (last < rows.length && rows[last].top < hi) last++;
  return [a, last];
}
