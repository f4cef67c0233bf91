// Photos written straight into the tables (as the service role would), for tests of what
// happens after the worker: triage, the owner routes, retention.
import { randomUUID } from "node:crypto";
import type postgres from "postgres";

export interface PhotoRowSpec {
  capturedAt: Date;
  seq: number;
  meanLuma?: number;
  sharpness?: number;
  dhash?: bigint;
  sizeBytes?: number;
  previewBytes?: number;
  thumbnailBytes?: number;
  processedAt?: Date;
  /** false: only the item, as before the worker ran */
  processed?: boolean;
}

/** Inserts an item and (unless processed is false) its derivatives row; answers the ids and keys. */
export async function insertPhotoRow(sql: postgres.Sql, userId: string, deviceId: string | null, s: PhotoRowSpec) {
  const id = randomUUID();
  const storageKey = `${userId}/${deviceId ?? "none"}/${id}.jpg`;
  const processed = s.processed ?? true;
  await sql`
    insert into public.source_items (id, user_id, item_type, storage_key, content_type, captured_at, ntp_synced,
                                     device_id, device_seq, status, size_bytes)
    values (${id}, ${userId}, 'photo', ${storageKey}, 'image/jpeg', ${s.capturedAt}, true, ${deviceId}, ${s.seq},
            ${processed ? "processed" : "queued"}, ${s.sizeBytes ?? 40_000})`;
  if (!processed) return { id, storageKey, previewKey: null, thumbnailKey: null };
  const [d] = await sql<{ preview_key: string; thumbnail_key: string }[]>`
    insert into public.photo_derivatives (item_id, user_id, device_id, captured_at, width, height, mean_luma, sharpness, dhash,
                                          preview_key, preview_bytes, thumbnail_key, thumbnail_bytes, processed_at)
    values (${id}, ${userId}, ${deviceId}, ${s.capturedAt}, 800, 600, ${s.meanLuma ?? 120}, ${s.sharpness ?? 300},
            ${(s.dhash ?? 0n).toString()}, processing.derivative_key(${id}, 'preview'), ${s.previewBytes ?? 9_000},
            processing.derivative_key(${id}, 'thumbnail'), ${s.thumbnailBytes ?? 2_000}, ${s.processedAt ?? new Date()})
    returning preview_key, thumbnail_key`;
  return { id, storageKey, previewKey: d.preview_key, thumbnailKey: d.thumbnail_key };
}
