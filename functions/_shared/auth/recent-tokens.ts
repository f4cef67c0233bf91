// Keys the database answered for lately, per isolate: which object keys it reserved for which
// token hash, and which keys it saw ingested (functions/devices/ingest-items.ts). Only a hint
// for ordering work: a hit lets ingest read that one key before its one SQL call (which checks
// the token and the reservation again and decides); a miss takes the path that asks the
// database first. Bounded in size and age, so memory stays flat and a revoked token's hint
// lapses within TTL_MS (until then it can cost a 16-byte read of a key it was given).
export const RECENT_TOKEN_TTL_MS = 60_000;
export const RECENT_TOKEN_MAX = 10_000;

export interface RecentSet {
  has(key: string): boolean;
  add(key: string): void;
  delete(key: string): void;
  readonly size: number;
}

export function createRecentSet(ttlMs = RECENT_TOKEN_TTL_MS, max = RECENT_TOKEN_MAX, now = () => Date.now()): RecentSet {
  const seen = new Map<string, number>(); // insertion order = age order
  return {
    has(key) {
      const at = seen.get(key);
      if (at === undefined) return false;
      if (now() - at > ttlMs) {
        seen.delete(key);
        return false;
      }
      return true;
    },
    add(key) {
      seen.delete(key);
      seen.set(key, now());
      while (seen.size > max) seen.delete(seen.keys().next().value as string);
    },
    delete(key) {
      seen.delete(key);
    },
    get size() {
      return seen.size;
    },
  };
}
