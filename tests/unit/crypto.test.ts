import { describe, expect, it } from "vitest";
import { crc32, hmacSha256Hex, randomString } from "../../functions/_shared/crypto.ts";

describe("crypto helpers", () => {
  it("crc32 matches zlib's check value and supports a running seed", () => {
    expect(crc32("123456789")).toBe(0xcbf43926);
    expect(crc32("")).toBe(0);
    expect(crc32("6789", crc32("12345"))).toBe(0xcbf43926);
  });

  it("hmacSha256Hex matches RFC 4231 test case 2", async () => {
    expect(await hmacSha256Hex("Jefe", "what do ya want for nothing?"))
      .toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("randomString draws only from the alphabet", () => {
    expect(randomString("ab", 1000)).toMatch(/^[ab]{1000}$/);
  });
});
