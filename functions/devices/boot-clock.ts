// The camera's boot clock on device requests: `X-Device-Boot` (its boot counter) and
// `X-Device-Uptime-Ms` (milliseconds since that boot when the request was sent). The first
// accepted request of a boot lets the server date the boot by its own clock, so photos of a
// boot that never got NTP are dated too (device_api.note_boot).
import { ApiError } from "../_shared/errors.ts";
import type { Sql } from "../_shared/db.ts";
import { createRecentSet, type RecentSet } from "../_shared/auth/recent-tokens.ts";

export interface BootClock {
  bootId: number;
  uptimeMs: number;
}

const MAX_BOOT_ID = 4_294_967_295; // a uint32 on the camera
const DIGITS = /^[0-9]{1,16}$/;

/** Both headers, neither (older firmware), or a 400 that says which is wrong. */
export function readBootClock(headers: Headers): BootClock | null {
  const boot = headers.get("x-device-boot");
  const uptime = headers.get("x-device-uptime-ms");
  if (boot === null && uptime === null) return null;
  const bootId = boot !== null && DIGITS.test(boot.trim()) ? Number(boot.trim()) : NaN;
  const uptimeMs = uptime !== null && DIGITS.test(uptime.trim()) ? Number(uptime.trim()) : NaN;
  if (!(bootId >= 1 && bootId <= MAX_BOOT_ID) || !(uptimeMs <= Number.MAX_SAFE_INTEGER)) {
    throw new ApiError(400, "invalid_boot_clock",
      `Send X-Device-Boot (1 to ${MAX_BOOT_ID}) and X-Device-Uptime-Ms (whole milliseconds) together, or neither.`);
  }
  return { bootId, uptimeMs };
}

// A boot, once recorded, is never recorded again (note_boot keeps the first date), so an
// isolate need not ask again for as long as it remembers: a day, bounded in size.
const BOOT_NOTE_TTL_MS = 24 * 60 * 60 * 1000;
export const createBootsNoted = (now = () => Date.now()) => createRecentSet(BOOT_NOTE_TTL_MS, undefined, now);

/** Records the boot once per isolate (while `noted` remembers it); never fails the request. */
export async function noteBoot(sql: Sql, noted: RecentSet, tokenHash: string, clock: BootClock): Promise<void> {
  const key = `${tokenHash}:${clock.bootId}`;
  if (noted.has(key)) return;
  try {
    await sql`select device_api.note_boot(p_token_hash => ${tokenHash}, p_boot_id => ${clock.bootId}::bigint,
                                          p_uptime_ms => ${clock.uptimeMs}::bigint)`;
    noted.add(key);
  } catch (err) {
    console.error("devices: boot clock not recorded", err instanceof Error ? err.message : err);
  }
}
