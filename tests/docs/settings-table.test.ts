import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { envDefaults } from "../../functions/_shared/config.ts";

describe("docs/deploy.md's settings table", () => {
  it("names every DEVICE_* variable the function reads, with its default", () => {
    const doc = readFileSync(new URL("../../docs/deploy.md", import.meta.url), "utf8");
    const rows = doc.split("\n").filter((l) => l.startsWith("| `DEVICE_"));
    const documented = new Map<string, string>();
    for (const row of rows) {
      const [names, defaults] = row.split("|").slice(1, 3).map((c) => c.trim());
      const vars = [...names.matchAll(/`(DEVICE_[A-Z_]+)`/g)].map((m) => m[1]);
      const values = defaults.split(",").map((v) => v.trim().replace(/`/g, ""));
      vars.forEach((v, i) => documented.set(v, values[i] ?? values[0]));
    }
    const defaults = envDefaults();
    const read = Object.keys(defaults).filter((k) => k.startsWith("DEVICE_") && !["DEVICE_DB_URL", "DEVICE_LEGACY_JWT_SECRET", "DEVICE_TOKEN_PEPPER"].includes(k));
    expect(read.filter((k) => !documented.has(k))).toEqual([]);
    for (const k of read) expect(documented.get(k), k).toBe(String(defaults[k]));
  });
});
