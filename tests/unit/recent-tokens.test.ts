// The per-isolate recent set (functions/_shared/auth/recent-tokens.ts) holds at most
// `max` entries, however many distinct keys a long-lived isolate sees (every ingested
// object key adds one), and forgets an entry after `ttlMs`.
import { describe, expect, it } from "vitest";
import { createRecentSet } from "../../functions/_shared/auth/recent-tokens.ts";

describe("recent set", () => {
  it("stays within its bound over many distinct keys, keeping the newest", () => {
    const set = createRecentSet(60_000, 1_000);
    for (let i = 0; i < 100_000; i++) set.add(`ingested:devices/d/${i}.jpg`);
    expect(set.size).toBe(1_000);
    expect(set.has("ingested:devices/d/99999.jpg")).toBe(true);
    expect(set.has("ingested:devices/d/99000.jpg")).toBe(true);
    expect(set.has("ingested:devices/d/98999.jpg")).toBe(false);
  });

  it("a key added again counts as new, so a busy token is not evicted by a stream of object keys", () => {
    const set = createRecentSet(60_000, 3);
    set.add("token");
    set.add("a");
    set.add("b");
    set.add("token");
    set.add("c");
    expect(set.has("token")).toBe(true);
    expect(set.has("a")).toBe(false);
  });

  it("forgets an entry once it is older than its TTL", () => {
    let now = 0;
    const set = createRecentSet(60_000, 10, () => now);
    set.add("token");
    now = 60_000;
    expect(set.has("token")).toBe(true);
    now = 60_001;
    expect(set.has("token")).toBe(false);
    expect(set.size).toBe(0);
  });
});
