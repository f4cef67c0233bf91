// What the batch routes (upload-urls, ingest-batch) share: the envelope `{ items: [...] }`,
// each item validated on its own, and one result per item in order, carrying the status
// and body the single route would have answered for it.
import type { z } from "zod";
import { ApiError, errorBody } from "../_shared/errors.ts";
import { MAX_JSON_BODY_BYTES, readJsonValue, validate } from "../_shared/request.ts";

/** Items per batch call: a drain's window (the default reservation budget is 32 too). */
export const MAX_BATCH_ITEMS = 32;
export const MAX_BATCH_BODY_BYTES = MAX_BATCH_ITEMS * MAX_JSON_BODY_BYTES;

export interface ItemResult {
  status: number;
  body: unknown;
  /** seconds, on a 429 item (the single route's Retry-After) */
  retry_after?: number;
}

export type Parsed<T> = { index: number; ok: true; value: T } | { index: number; ok: false; result: ItemResult };

export function itemError(err: unknown): ItemResult {
  if (!(err instanceof ApiError)) throw err;
  return { status: err.status, body: errorBody(err), retry_after: err.extra.retryAfterSeconds };
}

/** Reads `{ items: [...] }`; each item is checked with `check` (the single route's checks). */
export async function readBatch<S extends z.ZodType, T>(
  req: Request,
  schema: S,
  check: (item: z.output<S>) => T,
): Promise<Parsed<T>[]> {
  const data = await readJsonValue(req, MAX_BATCH_BODY_BYTES);
  const items = (data as { items?: unknown } | null)?.items;
  if (typeof data !== "object" || data === null || Array.isArray(data) || Object.keys(data).some((k) => k !== "items") ||
    !Array.isArray(items) || items.length < 1 || items.length > MAX_BATCH_ITEMS) {
    const message = `Send { "items": [...] } with 1 to ${MAX_BATCH_ITEMS} items.`;
    throw new ApiError(400, "invalid_request", message, { details: [{ path: envelopePath(data), message }] });
  }
  return items.map((item, index): Parsed<T> => {
    try {
      return { index, ok: true, value: check(validate(schema, item)) };
    } catch (err) {
      return { index, ok: false, result: itemError(err) };
    }
  });
}

/** Where an envelope is wrong: "body" (not an object, or other keys) or "items". */
function envelopePath(data: unknown): string {
  const isObject = typeof data === "object" && data !== null && !Array.isArray(data);
  return isObject && Object.keys(data).every((k) => k === "items") ? "items" : "body";
}

/** An ApiError from an item's row of a device_api batch function. */
export function rowError(error: { status: number; code: string; message: string; retry_after?: number }): ApiError {
  return new ApiError(error.status, error.code, error.message, { retryAfterSeconds: error.retry_after });
}
