// The one schema of owner-visible text a client sends (see printable.ts for what is refused).
import { z } from "zod";
import { isPrintable } from "./printable.ts";

export const NOT_PRINTABLE_MESSAGE = "must be printable text: no control characters, escape sequences or bidi controls";

/** Printable text of `min` to `max` characters (after trimming, when `trim`). */
export function printableText(opts: { min?: number; max: number; trim?: boolean }) {
  const base = opts.trim ? z.string().trim() : z.string();
  return base.min(opts.min ?? 0).max(opts.max).refine(isPrintable, NOT_PRINTABLE_MESSAGE);
}
