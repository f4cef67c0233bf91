import { describe, expect, it } from "vitest";
import {
  DEVICE_TOKEN_PREFIX,
  generateDeviceToken,
  hashDeviceToken,
  isWellFormedDeviceToken,
} from "../../functions/_shared/auth/device-token.ts";

describe("device tokens", () => {
  it("are prefixed, 45 characters long, unique and well formed", () => {
    const tokens = new Set(Array.from({ length: 200 }, generateDeviceToken));
    expect(tokens.size).toBe(200);
    for (const t of tokens) {
      expect(t.startsWith(DEVICE_TOKEN_PREFIX)).toBe(true);
      expect(t).toHaveLength(DEVICE_TOKEN_PREFIX.length + 38);
      expect(isWellFormedDeviceToken(t)).toBe(true);
    }
  });

  it("refuses every single-character typo through the checksum", () => {
    const token = generateDeviceToken();
    const body = token.slice(DEVICE_TOKEN_PREFIX.length);
    for (let i = 0; i < body.length; i++) {
      const replacement = body[i] === "A" ? "B" : "A";
      const typo = DEVICE_TOKEN_PREFIX + body.slice(0, i) + replacement + body.slice(i + 1);
      expect(isWellFormedDeviceToken(typo), `typo at ${i}`).toBe(false);
    }
  });

  it("refuses wrong prefixes, lengths and characters", () => {
    const token = generateDeviceToken();
    expect(isWellFormedDeviceToken(token.replace("devtok_", "devtak_"))).toBe(false);
    expect(isWellFormedDeviceToken(token + "x")).toBe(false);
    expect(isWellFormedDeviceToken(token.slice(0, -1))).toBe(false);
    expect(isWellFormedDeviceToken(token.slice(0, -1) + "!")).toBe(false);
    expect(isWellFormedDeviceToken("")).toBe(false);
  });

  it("hashes with the pepper: same token and pepper agree, another pepper does not", async () => {
    const token = generateDeviceToken();
    const a = await hashDeviceToken(token, "pepper-one-pepper-one-pepper-one-1");
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashDeviceToken(token, "pepper-one-pepper-one-pepper-one-1")).toBe(a);
    expect(await hashDeviceToken(token, "pepper-two-pepper-two-pepper-two-2")).not.toBe(a);
    expect(a).not.toContain(token.slice(7, 20));
  });
});
