// The timeline's pure parts: moments from the pipeline's ids or from time gaps, rows laid out
// one under another, and only the rows near the viewport chosen.
import { expect, it } from "vitest";
import type { Photo } from "../../web/src/api.ts";
import { groupMoments, layoutRows, MOMENT_GAP_MS, visibleRows } from "../../web/src/timeline.ts";
import { lastErrorInWords, settingsSeen } from "../../web/src/format.ts";

const at = (ms: number, moment: string | null = null, id = String(ms)) =>
  ({ item_id: id, captured_at: new Date(ms).toISOString(), moment_id: moment } as Photo);

it("groups by moment id, and by gaps when the pipeline has not assigned moments", () => {
  expect(groupMoments([at(0, "a"), at(1, "a"), at(2, "b")]).map((m) => m.photos.length)).toEqual([2, 1]);
  expect(groupMoments([at(0), at(MOMENT_GAP_MS - 1), at(2 * MOMENT_GAP_MS + 5)]).map((m) => m.photos.length)).toEqual([2, 1]);
});

it("shows only the rows overlapping the viewport of a 2,880-photo day", () => {
  const day = Array.from({ length: 2880 }, (_, i) => at(i * 30_000, `m${Math.floor(i / 120)}`, `p${i}`));
  const { rows, height } = layoutRows(groupMoments(day), 4, 100, 40);
  expect(rows.filter((r) => r.kind === "header")).toHaveLength(24);
  expect(height).toBe(24 * 40 + 720 * 100);
  const [a, b] = visibleRows(rows, 30_000, 600, 200);
  expect(b - a).toBeLessThanOrEqual(12);
  expect(rows[a].top + rows[a].height).toBeGreaterThan(30_000 - 200);
  expect(rows[b - 1].top).toBeLessThan(30_000 + 800);
  expect(visibleRows(rows, height, 600, 0)[1]).toBe(rows.length);
});

it("says when the camera has seen a settings change, and errors in words", () => {
  const d = (updated: string | null, reported: string | null) =>
    ({ settings: { paused: true, capture_interval_s: null, updated_at: updated }, status: reported ? { reported_at: reported } : null }) as never;
  expect(settingsSeen(d("2026-01-01T00:00:10Z", "2026-01-01T00:00:05Z"))).toBe(false);
  expect(settingsSeen(d("2026-01-01T00:00:10Z", "2026-01-01T00:00:11Z"))).toBe(true);
  expect(lastErrorInWords(null)).toBe("None");
  expect(lastErrorInWords("put: HTTP 503 storage_unavailable")).toBe("Uploading a photo failed: the server answered 503 (storage_unavailable)");
  expect(lastErrorInWords("ingest: HTTP 0 ")).toBe("Recording an uploaded photo failed: the server did not answer");
  expect(lastErrorInWords("upload_failed")).toBe("Uploading a photo failed (upload_failed)");
});
