import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../functions/_shared/config.ts";
import { matchRoutes } from "../../functions/devices/dispatch.ts";
import { routeLabel } from "../../functions/devices/handler.ts";
import { ROUTES } from "../../functions/devices/registry.ts";

const base = {
  SUPABASE_URL: "https://abc.supabase.co",
  SUPABASE_DB_URL: "postgresql://postgres:pw@db:5432/postgres",
  SUPABASE_SERVICE_ROLE_KEY: "service",
  DEVICE_TOKEN_PEPPER: "x".repeat(32),
};

describe("function configuration", () => {
  it("defaults to the supabase storage driver and documented limits", () => {
    const c = loadConfig(base);
    expect(c.storage).toEqual({ driver: "supabase", bucket: "device-photos", serviceRoleKey: "service" });
    expect([c.pairingTtlSeconds, c.activationFailuresPerCode, c.pairingsPerHour]).toEqual([600, 5, 20]);
  });
  it("refuses a short pepper and names it, without echoing its value", () => {
    expect(() => loadConfig({ ...base, DEVICE_TOKEN_PEPPER: "short-secret" })).toThrow(ConfigError);
    try {
      loadConfig({ ...base, DEVICE_TOKEN_PEPPER: "short-secret" });
    } catch (e) {
      expect((e as Error).message).toContain("DEVICE_TOKEN_PEPPER");
      expect((e as Error).message).not.toContain("short-secret");
    }
  });
  it("needs S3 settings for the s3 driver and signs device URLs for the public endpoint", () => {
    expect(() => loadConfig({ ...base, DEVICE_STORAGE_DRIVER: "s3" })).toThrow(/S3_ENDPOINT/);
    const c = loadConfig({
      ...base, DEVICE_STORAGE_DRIVER: "s3", S3_ENDPOINT: "http://internal:9000",
      S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s", S3_PUBLIC_ENDPOINT: "https://files.example.com",
    });
    expect(c.storage).toMatchObject({ driver: "s3", endpoint: "http://internal:9000", publicEndpoint: "https://files.example.com" });
  });
});

describe("routing", () => {
  const label = (path: string) => matchRoutes(ROUTES, path).map((m) => `${m.route.method} ${routeLabel(m.route)}`);
  it("finds the route under the function name, as the Edge Runtime and the gateway pass it", () => {
    expect(label("/devices/pair")).toEqual(["POST pair"]);
    expect(label("/functions/v1/devices/upload-url")).toEqual(["POST upload-url"]);
    expect(label("/devices/ingest/")).toEqual(["POST ingest"]);
    expect(label("/devices")).toEqual(["GET list"]);
    expect(label("/functions/v1/devices/")).toEqual(["GET list"]);
    expect(label("/devices/0b0e9f6c-52a1-4f6e-9d1e-3c0a5b2f1e77/rename")).toEqual(["POST <id>/rename"]);
    expect(matchRoutes(ROUTES, "/devices/0b0e9f6c-52a1-4f6e-9d1e-3c0a5b2f1e77/rename")[0].params)
      .toEqual({ device: "0b0e9f6c-52a1-4f6e-9d1e-3c0a5b2f1e77" });
    expect(label("/devices/../pair")).toEqual([]); // no such route: 404
    expect(label("/devices/a/b/rename")).toEqual([]);
    expect(label("/devices//rename")).toEqual([]); // an empty id is no id
  });
  it("declares every route once: no two share a method and path", () => {
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
