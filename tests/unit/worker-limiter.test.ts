// The worker's decode slots: never more callers inside than slots, and waiting callers go in
// by their claim order, so jobs tried before are decoded before newer ones.
import { describe, expect, it } from "vitest";
import { limiter } from "../../scripts/worker/worker.ts";

describe("the worker's decode slots", () => {
  it("lets waiting callers in by order, then by arrival, never more than the slots at once", async () => {
    const slot = limiter(2);
    const entered: string[] = [];
    let inside = 0;
    let most = 0;
    const gate: Array<() => void> = [];
    const job = (name: string, order?: number) => slot(async () => {
      entered.push(name);
      most = Math.max(most, ++inside);
      await new Promise<void>((r) => gate.push(r));
      inside--;
    }, order);
    const all = [job("a", 5), job("b", 6), job("c", 9), job("d", 3), job("e"), job("f", 3), job("g", 4)];
    await new Promise((r) => setTimeout(r, 0));
    expect(entered).toEqual(["a", "b"]); // the first two take the free slots whatever their order
    while (entered.length < 7 || gate.length) {
      gate.shift()?.();
      await new Promise((r) => setTimeout(r, 0));
    }
    await Promise.all(all);
    expect(entered).toEqual(["a", "b", "d", "f", "g", "c", "e"]);
    expect(most).toBe(2);
  });
});
