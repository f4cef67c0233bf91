// What the owner's photo routes share: the listing's query, its opaque cursor, and turning
// the database's photos into the API's (thumbnail and preview URLs signed in one batch).
import { z } from "zod";
import { ApiError } from "../_shared/errors.ts";
import { validate } from "../_shared/request.ts";
import type { DevicesContext } from "./context.ts";
import { UUID } from "./params.ts";

/** The longest time range one listing covers. */
export const MAX_RANGE_MS = 31 * 24 * 3600 * 1000;

export const Uuid = z.string().regex(UUID, "must be a UUID").transform((s) => s.toLowerCase());
const Instant = z.iso.datetime({ offset: true });
const Bool = z.enum(["true", "false"]).transform((v) => v === "true");
const Limit = z.string().regex(/^\d{1,4}$/, "must be a whole number from 1 to 500").transform(Number)
  .pipe(z.number().min(1).max(500));

export const ListPhotosQuery = z.object({
  device_id: Uuid.optional(),
  from: Instant,
  to: Instant,
  include_hidden: Bool.default(false),
  limit: Limit.default(200),
  cursor: z.string().min(1).max(200).optional(),
}).strict()
  .refine((q) => Date.parse(q.from) <= Date.parse(q.to), { path: ["to"], message: "must not be before from" })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) <= MAX_RANGE_MS, { path: ["to"], message: "at most 31 days after from" });
export type ListPhotosQuery = z.output<typeof ListPhotosQuery>;

export function readListQuery(req: Request): ListPhotosQuery {
  const params = new URL(req.url).searchParams;
  const raw: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k in raw) throw invalid(k, "given more than once");
    raw[k] = v;
  }
  return validate(ListPhotosQuery, raw);
}

function invalid(path: string, message: string): ApiError {
  return new ApiError(400, "invalid_request", `${path}: ${message}`, { details: [{ path, message }] });
}

/** A position in the listing: the last photo's exact capture time (microseconds) and id. */
export interface Position {
  at: string;
  id: string;
}

const POSITION_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(p: Position): string {
  return btoa(JSON.stringify([p.at, p.id])).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The cursor's position, or a 400 when it is not one this listing handed out for the range. */
export function decodeCursor(cursor: string, q: Pick<ListPhotosQuery, "from" | "to">): Position {
  let value: unknown;
  try {
    value = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
  } catch {
    throw invalid("cursor", "is not a cursor this listing handed out");
  }
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" || typeof value[1] !== "string" ||
      !POSITION_AT.test(value[0]) || !UUID.test(value[1])) {
    throw invalid("cursor", "is not a cursor this listing handed out");
  }
  const at = Date.parse(value[0]);
  if (!(at >= Date.parse(q.from) - 1 && at < Date.parse(q.to) + 1)) throw invalid("cursor", "belongs to another time range");
  return { at: value[0], id: value[1].toLowerCase() };
}

export interface PhotoRow {
  photo: Record<string, unknown>;
  thumbnail_key: string | null;
  preview_key: string | null;
}

/** The photos as the API shows them: every thumbnail and preview URL signed in one call. */
export async function withSignedUrls(ctx: DevicesContext, rows: PhotoRow[]): Promise<Record<string, unknown>[]> {
  const keys = rows.flatMap((r) => (r.thumbnail_key && r.preview_key ? [r.thumbnail_key, r.preview_key] : []));
  const ttl = ctx.config.photoUrlTtlSeconds;
  const expiresAt = new Date(Date.now() + ttl * 1000).toISOString();
  const urls = await ctx.storage.signDownloadUrls(keys, ttl);
  let next = 0;
  return rows.map((r) => {
    const signed = r.thumbnail_key && r.preview_key;
    return {
      ...r.photo,
      thumbnail_url: signed ? urls[next++] : null,
      preview_url: signed ? urls[next++] : null,
      urls_expire_at: signed ? expiresAt : null,
    };
  });
}
