import { describe, expect, it } from "vitest";
import { freePort } from "../../scripts/stack/ports.ts";

describe("freePort", () => {
  it("never hands out a port browsers refuse (10080), even when it is the one picked", async () => {
    const picks: number[] = [];
    const port = await freePort((floor, ceiling) => {
      const p = picks.length === 0 ? 10_080 : floor + Math.floor(Math.random() * (ceiling - floor));
      picks.push(p);
      return p;
    });
    expect(picks[0]).toBe(10_080);
    expect(picks.length).toBeGreaterThan(1);
    expect(port).not.toBe(10_080);
  });
});
