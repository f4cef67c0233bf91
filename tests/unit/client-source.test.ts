import { describe, expect, it } from "vitest";
import { hashSource, requestSource, sourceOfAddress } from "../../functions/_shared/auth/client-source.ts";
import { isPrintable, showable } from "../../functions/_shared/printable.ts";

describe("client sources", () => {
  it("an IPv4 address is its own source; an IPv6 address is its /64", () => {
    expect(sourceOfAddress("203.0.113.7")).toBe("203.0.113.7");
    expect(sourceOfAddress(" 203.0.113.7 ")).toBe("203.0.113.7");
    expect(sourceOfAddress("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(sourceOfAddress("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(sourceOfAddress("[2001:db8:1:2::9]")).toBe("2001:db8:1:2::/64");
    expect(sourceOfAddress("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(sourceOfAddress("::ffff:198.51.100.4")).toBe("198.51.100.4"); // IPv4 as IPv6
    expect(sourceOfAddress("::1")).toBe("0:0:0:0::/64");
  });

  it("what is no address is no source", () => {
    for (const bad of ["", "unknown", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.4, 5.6.7.8", "2001:db8::1::2",
      "2001:db8:1:2:3:4:5:6:7", "g::1", "12345::1", "::ffff:300.1.1.1"]) {
      expect(sourceOfAddress(bad), bad).toBeNull();
    }
  });

  it("the source comes from the configured header only; without a usable one, requests share one source", () => {
    const req = (headers: Record<string, string>) => new Request("http://x/devices/activate", { headers });
    expect(requestSource(req({ "cf-connecting-ip": "203.0.113.7", "x-forwarded-for": "1.1.1.1" }))).toBe("203.0.113.7");
    expect(requestSource(req({ "x-forwarded-for": "1.1.1.1" }))).toBe("unknown");
    expect(requestSource(req({ "cf-connecting-ip": "nonsense" }))).toBe("unknown");
    expect(requestSource(req({ "x-real-ip": "203.0.113.9" }), "x-real-ip")).toBe("203.0.113.9");
  });

  it("the database sees a keyed hash of the source, not the address", async () => {
    const h = await hashSource("203.0.113.7", "p".repeat(32));
    expect(h).toMatch(/^[0-9a-f]{32}$/);
    expect(h).not.toContain("203");
    expect(await hashSource("203.0.113.7", "q".repeat(32))).not.toBe(h);
  });
});

describe("printable text", () => {
  it("refuses controls, escapes, separators and bidi controls; takes every script and emoji", () => {
    for (const bad of ["\u001b[31m", "a\rb", "a\nb", "a\tb", "\u0085", "\u009b", "\u2028", "\u2029", "\u202e", "\u2066", "\u200f", "\u061c", "\ud800"]) {
      expect(isPrintable(bad), JSON.stringify(bad)).toBe(false);
    }
    for (const good of ["Küche", "مطبخ", "台所", "📷👩‍👩‍👧", "e\u0301", "wifi: no network (rssi -91)"]) {
      expect(isPrintable(good), good).toBe(true);
    }
  });
  it("shows each unprintable character as U+FFFD", () => {
    expect(showable("\u001b[2Jx\u202ey")).toBe("\uFFFD[2Jx\uFFFDy");
    expect(showable("Küche 📷")).toBe("Küche 📷");
  });
});
