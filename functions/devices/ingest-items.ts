// Ingest of one or more items, in one order of work for POST /devices/ingest (a batch of
// one) and POST /devices/ingest-batch:
// - Storage is read only for keys the database said this device reserved: a key this
//   isolate handed to this token lately (upload-url, see reservedKey), read before the one
//   SQL call; any other key goes to the SQL call first, and only the items it answers
//   'inspect' (reserved by this device, not ingested) are read and judged in a second call.
//   So neither a forged token nor another device's key ever causes a storage request.
// - With the supabase driver the SQL call judges the object from storage.objects itself.
// - Bytes refused as stored move the reservation to a fresh key before the old one is
//   deleted (device_api.retire_refused_key): a late or repeated delete can only hit a key
//   nothing can ingest any more.
import { ApiError } from "../_shared/errors.ts";
import { callDeviceApi } from "../_shared/db.ts";
import { looksLikeJpeg, type StoredObject } from "../_shared/storage/driver.ts";
import type { DevicesContext } from "./context.ts";
import type { IngestRequest } from "./routes/ingest.ts";

/** Refusals of stored bytes: the key is retired and deleted, the device uploads again. */
export const REFUSED_OBJECT_CODES = new Set(["photo_too_large", "photo_size_mismatch", "photo_not_jpeg"]);

// Storage reads of one request in flight at once.
const STORAGE_PARALLELISM = 8;

export interface Pending {
  index: number;
  item: IngestRequest;
  object: StoredObject | null;
}

/** One item's answer from the database. */
export type IngestOutcome =
  | { idx: number; status: "queued" | "duplicate" | "inspect"; item_id: string | null; task_id: string | null }
  | { idx: number; status: "error"; error: ApiError };

/** One SQL call for `pending` (answers carry idx into it); limitsTaken: an earlier call recorded the hit. */
export type IngestCall = (pending: Pending[], limitsTaken: boolean) => Promise<IngestOutcome[]>;

export type IngestResult = ApiError | { status: 200 | 201; body: Record<string, unknown> };

/** The recent-set entry for a key the database reserved for this token (upload-url). */
export const reservedKey = (tokenHash: string, objectKey: string) => `reserved:${tokenHash}:${objectKey}`;
/** The recent-set entry for an object key this isolate saw ingested. */
export const ingestedKey = (objectKey: string) => `ingested:${objectKey}`;

export function describe(object: StoredObject): Record<string, unknown> {
  return object.exists ? { exists: true, size: object.size, jpeg: looksLikeJpeg(object.head) } : { exists: false };
}

/** An item whose storage read did not finish by the request's deadline: nothing was judged, the camera retries. */
export const storageLate = () =>
  new ApiError(503, "storage_unavailable", "Object storage did not answer in time; try again.", { retryAfterSeconds: 1 });

/**
 * fn over items, `limit` at once, until `deadline` (a promise that resolves when time is up):
 * items not finished by then are `late(item)` (a read still in flight is left to finish unheard).
 */
export async function mapLimitedUntil<T, R>(
  items: T[], limit: number, deadline: Promise<void>, fn: (item: T) => Promise<R>, late: (item: T) => R,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let expired = false;
  const timeUp = deadline.then(() => void (expired = true));
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !expired) {
      const i = next++;
      const done = fn(items[i]).then((r) => ({ r }));
      const first = await Promise.race([done, timeUp]);
      out[i] = first === undefined ? late(items[i]) : first.r;
    }
  }));
  for (; next < items.length; next++) out[next] = late(items[next]);
  return out;
}

export async function ingestItems(
  ctx: DevicesContext,
  tokenHash: string,
  items: { index: number; item: IngestRequest }[],
  call: IngestCall,
): Promise<Map<number, IngestResult>> {
  const results = new Map<number, IngestResult>();
  const recent = ctx.recentTokens;
  // The reads of the whole request stop at one deadline, so the answer comes before the camera gives up;
  // items not read by then reach no SQL call (nothing half-done) and answer a retryable 503.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => timer = setTimeout(resolve, ctx.config.ingestStorageDeadlineMs));

  // Reads storage for each; an item storage fails for (or is late for) gets its error and leaves.
  const inspect = async (pending: Pending[]) =>
    (await mapLimitedUntil(pending, STORAGE_PARALLELISM, deadline, async (p): Promise<Pending | null> => {
      try {
        return { ...p, object: await ctx.storage.inspectObject(p.item.object_key) };
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        results.set(p.index, err);
        return null;
      }
    }, (p) => (results.set(p.index, storageLate()), null))).filter((p): p is Pending => p !== null);

  const retireAndDelete = async (objectKey: string) => {
    try {
      const [{ retired }] = await callDeviceApi(() =>
        ctx.sql<{ retired: boolean }[]>`select device_api.retire_refused_key(${tokenHash}, ${objectKey}) as retired`
      );
      recent.delete(reservedKey(tokenHash, objectKey));
      // Best effort: the key stays queued, the sweeper deletes it once its upload URL has expired.
      if (retired) await ctx.storage.deleteObject(objectKey).catch(() => {});
    } catch {
      // The refused bytes stay under their key until the next refusal or the sweeper.
    }
  };

  // Records each answer; returns the items the database wants storage's answer for.
  const settle = async (pending: Pending[], outcomes: IngestOutcome[]) => {
    const again: Pending[] = [];
    await Promise.all(outcomes.map(async (o) => {
      const p = pending[o.idx];
      if (o.status === "inspect") return void again.push(p);
      if (o.status === "error") {
        const judged = p.object !== null || ctx.storage.databaseBucket !== undefined;
        if (judged && REFUSED_OBJECT_CODES.has(o.error.code)) await retireAndDelete(p.item.object_key);
        return void results.set(p.index, o.error);
      }
      recent.add(ingestedKey(p.item.object_key));
      results.set(p.index, o.status === "duplicate"
        ? { status: 200, body: { status: "duplicate", item_id: o.item_id } }
        : { status: 201, body: { status: "queued", item_id: o.item_id, task_id: o.task_id } });
    }));
    return again;
  };
  const accepted = (outcomes: IngestOutcome[]) => outcomes.some((o) => o.status === "queued" || o.status === "duplicate");

  try {
    let pending: Pending[] = items.map(({ index, item }) => ({ index, item, object: null }));
    if (ctx.storage.databaseBucket === undefined) {
      const readFirst = (p: Pending) =>
        recent.has(reservedKey(tokenHash, p.item.object_key)) && !recent.has(ingestedKey(p.item.object_key));
      pending = [...pending.filter((p) => !readFirst(p)), ...await inspect(pending.filter(readFirst))];
    }
    if (pending.length === 0) return results;
    const first = await call(pending, false);
    let again = await settle(pending, first);
    if (again.length > 0) {
      again = await inspect(again);
      if (again.length > 0) await settle(again, await call(again, accepted(first)));
    }
    return results;
  } finally {
    clearTimeout(timer);
  }
}
