import { describe, expect, it } from "vitest";
import {
  generatePairingCode,
  hashPairingCode,
  normalizePairingCode,
  PAIRING_ALPHABET,
} from "../../functions/_shared/auth/pairing-code.ts";

describe("pairing codes", () => {
  it("look like XXXX-XXXX from the 20-consonant alphabet", () => {
    expect(PAIRING_ALPHABET).toHaveLength(20);
    expect(PAIRING_ALPHABET).not.toMatch(/[AEIOUY]/);
    for (let i = 0; i < 500; i++) {
      expect(generatePairingCode()).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    }
  });

  it("use every letter of the alphabet about equally often", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      for (const ch of generatePairingCode().replace("-", "")) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(20);
    const expected = (5000 * 8) / 20;
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.15);
  });

  it("are read back case-insensitively, with or without the dash or spaces", () => {
    expect(normalizePairingCode("bcdf-ghjk")).toBe("BCDFGHJK");
    expect(normalizePairingCode("BCDFGHJK")).toBe("BCDFGHJK");
    expect(normalizePairingCode(" bcdf ghjk ")).toBe("BCDFGHJK");
  });

  it("refuse strings that cannot be codes", () => {
    for (const bad of ["BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GH1K", ""]) {
      expect(normalizePairingCode(bad), bad).toBeNull();
    }
  });

  it("hash to the same value for every spelling of one code", async () => {
    const pepper = "p".repeat(32);
    const a = await hashPairingCode(normalizePairingCode("bcdf-ghjk")!, pepper);
    expect(await hashPairingCode(normalizePairingCode("BCDFGHJK")!, pepper)).toBe(a);
    expect(await hashPairingCode(normalizePairingCode("BCDF-GHJL")!, pepper)).not.toBe(a);
  });
});
