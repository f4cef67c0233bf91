// The keys and settings a hosted project gives the function: the new secret keys (with
// the legacy service role key as fallback), the legacy JWT secret under a name that
// `supabase secrets set` accepts, and an optional pooler URL.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../functions/_shared/config.ts";

const base = {
  SUPABASE_URL: "https://abc.supabase.co",
  SUPABASE_DB_URL: "postgresql://postgres:pw@db.abc.supabase.co:5432/postgres",
  DEVICE_TOKEN_PEPPER: "x".repeat(32),
};
const storageKey = (env: Record<string, string>) => {
  const s = loadConfig({ ...base, ...env }).storage;
  return s.driver === "supabase" ? s.serviceRoleKey : undefined;
};

describe("Storage's key", () => {
  it("is the default secret key from SUPABASE_SECRET_KEYS, before the legacy service role key", () => {
    expect(storageKey({
      SUPABASE_SECRET_KEYS: JSON.stringify({ other: "sb_secret_other", default: "sb_secret_default" }),
      SUPABASE_SERVICE_ROLE_KEY: "legacy-jwt",
    })).toBe("sb_secret_default");
  });
  it("is the only named key when there is no default", () => {
    expect(storageKey({ SUPABASE_SECRET_KEYS: JSON.stringify({ backend: "sb_secret_backend" }) })).toBe("sb_secret_backend");
  });
  it("falls back to SUPABASE_SERVICE_ROLE_KEY (legacy keys only, or an empty set)", () => {
    expect(storageKey({ SUPABASE_SERVICE_ROLE_KEY: "legacy-jwt" })).toBe("legacy-jwt");
    expect(storageKey({ SUPABASE_SECRET_KEYS: "{}", SUPABASE_SERVICE_ROLE_KEY: "legacy-jwt" })).toBe("legacy-jwt");
  });
  it("is required for the supabase driver, and unreadable JSON is named without its value", () => {
    expect(() => loadConfig(base)).toThrow(/SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY/);
    const err = (() => {
      try {
        loadConfig({ ...base, SUPABASE_SECRET_KEYS: "sb_secret_not_json" });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toMatch(/SUPABASE_SECRET_KEYS is not JSON/);
    expect(err?.message).not.toContain("sb_secret_not_json");
  });
});

describe("other hosted settings", () => {
  it("reads the legacy HS256 secret from DEVICE_LEGACY_JWT_SECRET (SUPABASE_JWT_SECRET only as fallback)", () => {
    expect(loadConfig({ ...base, SUPABASE_SERVICE_ROLE_KEY: "k", DEVICE_LEGACY_JWT_SECRET: "a".repeat(40) }).legacyJwtSecret)
      .toBe("a".repeat(40));
    expect(loadConfig({ ...base, SUPABASE_SERVICE_ROLE_KEY: "k", SUPABASE_JWT_SECRET: "b".repeat(40) }).legacyJwtSecret)
      .toBe("b".repeat(40));
  });
  it("uses a small pool per isolate on the direct connection, or DEVICE_DB_URL when set", () => {
    const direct = loadConfig({ ...base, SUPABASE_SERVICE_ROLE_KEY: "k" });
    expect([direct.dbUrl, direct.dbPoolSize]).toEqual([base.SUPABASE_DB_URL, 2]);
    const pooled = loadConfig({
      ...base, SUPABASE_SERVICE_ROLE_KEY: "k", DEVICE_DB_POOL_SIZE: "4",
      DEVICE_DB_URL: "postgresql://postgres.abc:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
    });
    expect([pooled.dbUrl, pooled.dbPoolSize]).toEqual([
      "postgresql://postgres.abc:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres", 4,
    ]);
  });
});
