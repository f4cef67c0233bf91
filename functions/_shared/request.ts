// Reading a JSON request body at the edge: size limit, media type, parse, validate.
import type { z } from "zod";
import { ApiError } from "./errors.ts";

export const MAX_JSON_BODY_BYTES = 16 * 1024;

async function readLimited(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, "payload_too_large", `The request body is larger than ${limit} bytes.`);
}

type Issue = { path: string; message: string };

// Postgres text and jsonb cannot hold U+0000 or an unpaired UTF-16 surrogate (they
// would fail in the database as a 500), and a "__proto__" key would be dropped
// silently by the object it is copied into: all three are refused where they arrive.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorable(s: string): string | null {
  if (s.includes("\u0000")) return "must not contain NUL (U+0000)";
  if (LONE_SURROGATE.test(s)) return "must not contain an unpaired surrogate";
  return null;
}

/** Nesting a body may have: real requests use a few levels; deeper ones are refused. */
export const MAX_JSON_DEPTH = 32;

// An explicit stack, not recursion: a 16 KiB body can nest 8,000 levels, which would
// overflow the call stack of a recursive walk (a 500) before any check could refuse it.
function findUnstorable(root: unknown, out: Issue[]): void {
  const pending: { value: unknown; path: string[] }[] = [{ value: root, path: [] }];
  while (pending.length && out.length < 10) {
    const { value, path } = pending.pop()!;
    if (typeof value === "string") {
      const why = unstorable(value);
      if (why) out.push({ path: path.join("."), message: why });
    } else if (value !== null && typeof value === "object") {
      if (path.length >= MAX_JSON_DEPTH) throw tooDeep();
      const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
      for (const [k, v] of entries.reverse()) {
        if (!Array.isArray(value)) {
          const why = k === "__proto__" ? "\"__proto__\" is not allowed as a key" : unstorable(k);
          if (why) out.push({ path: [...path, k === "__proto__" ? k : "(key)"].join("."), message: `key ${why}` });
        }
        pending.push({ value: v, path: [...path, k] });
      }
    }
  }
}

function tooDeep(): ApiError {
  return new ApiError(400, "json_too_deep", `The request body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep.`);
}

function invalidRequest(issues: Issue[]): ApiError {
  return new ApiError(400, "invalid_request",
    issues.map((i) => `${i.path || "body"}: ${i.message}`).join("; "), { details: issues });
}

/** The parsed JSON body (not validated), or a 400/413/415 ApiError. */
export async function readJsonValue(req: Request, limit = MAX_JSON_BODY_BYTES): Promise<unknown> {
  const mediaType = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new ApiError(415, "unsupported_media_type", "Send the request body as application/json.");
  }
  const bytes = await readLimited(req, limit);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new ApiError(400, "invalid_json", "The request body is not valid JSON.");
  }
}

/** The value checked against the schema (and storable in Postgres), or a 400 ApiError. */
export function validate<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  const unsafe: Issue[] = [];
  findUnstorable(data, unsafe);
  if (unsafe.length) throw invalidRequest(unsafe);
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw invalidRequest(parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })));
  }
  return parsed.data;
}

/** The validated body, or a 400/413/415 ApiError that says exactly what is wrong. */
export async function readJsonBody<S extends z.ZodType>(
  req: Request,
  schema: S,
  limit = MAX_JSON_BODY_BYTES,
): Promise<z.output<S>> {
  return validate(schema, await readJsonValue(req, limit));
}
