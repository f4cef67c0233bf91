// A boot is recorded once per isolate (device_api.note_boot keeps the first date it is given),
// not once a minute as the recent-token set would have it.
import { describe, expect, it } from "vitest";
import { createBootsNoted, noteBoot } from "../../functions/devices/boot-clock.ts";
import type { Sql } from "../../functions/_shared/db.ts";

function countingSql() {
  const calls: unknown[][] = [];
  const sql = ((_: TemplateStringsArray, ...values: unknown[]) => { calls.push(values); return Promise.resolve([]); }) as unknown as Sql;
  return { sql, calls };
}

describe("noteBoot", () => {
  it("asks the database once per boot for a day, then again; a new boot or token asks at once", async () => {
    let now = 0;
    const noted = createBootsNoted(() => now);
    const { sql, calls } = countingSql();
    await noteBoot(sql, noted, "hash-a", { bootId: 7, uptimeMs: 1_000 });
    for (const minutes of [1, 2, 30, 60 * 23]) {
      now = minutes * 60_000;
      await noteBoot(sql, noted, "hash-a", { bootId: 7, uptimeMs: 1_000 + now });
    }
    expect(calls).toHaveLength(1);
    await noteBoot(sql, noted, "hash-a", { bootId: 8, uptimeMs: 5 });
    await noteBoot(sql, noted, "hash-b", { bootId: 7, uptimeMs: 5 });
    expect(calls).toHaveLength(3);
    now = 25 * 60 * 60_000;
    await noteBoot(sql, noted, "hash-a", { bootId: 7, uptimeMs: now });
    expect(calls).toHaveLength(4);
  });

  it("a failed call is not remembered, so the next request tries again", async () => {
    const noted = createBootsNoted();
    let calls = 0;
    const failing = (() => { calls++; return Promise.reject(new Error("connection reset")); }) as unknown as Sql;
    const quiet = console.error;
    console.error = () => {};
    try {
      await noteBoot(failing, noted, "hash-a", { bootId: 1, uptimeMs: 1 });
      await noteBoot(failing, noted, "hash-a", { bootId: 1, uptimeMs: 2 });
    } finally {
      console.error = quiet;
    }
    expect(calls).toBe(2);
  });
});
