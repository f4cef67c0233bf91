// A route added to the registry is covered by the hostile cases without editing them: a
// fixture route (POST /devices/logs, device token, a small JSON body) is served beside the
// real ones by the real dispatcher, in this process, and the generic hostile cases pick it up.
// Adding it took exactly what adding a real route takes: its module (here, below) and one
// entry in the list the dispatcher is given (registry.ts for the deployed function).
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { generateDeviceToken } from "../../functions/_shared/auth/device-token.ts";
import { createUserVerifier } from "../../functions/_shared/auth/user-jwt.ts";
import { loadConfig } from "../../functions/_shared/config.ts";
import { connectDatabase } from "../../functions/_shared/db.ts";
import { jsonResponse } from "../../functions/_shared/errors.ts";
import { createRecentSet } from "../../functions/_shared/auth/recent-tokens.ts";
import { createStorageDriver } from "../../functions/_shared/storage/index.ts";
import { createDevicesHandler } from "../../functions/devices/handler.ts";
import { ROUTES } from "../../functions/devices/registry.ts";
import { defineRoute } from "../../functions/devices/route.ts";
import { genericCases } from "../support/hostile-cases.ts";
import { forgeUserJwt } from "../support/jwt.ts";
import { stack } from "../support/stack.ts";

const LogsRequest = z.object({ lines: z.array(z.string().max(200)).min(1).max(50) });
const logs = defineRoute({
  method: "POST", path: "/devices/logs", auth: "device", body: LogsRequest, limits: [],
  summary: "a fixture: log lines from a camera", answers: "202 `{ accepted }`",
  handler: async ({ body }) => jsonResponse({ accepted: body.lines.length }, 202),
});

describe("a route added to the registry", () => {
  it("is matched, authenticated and validated by the dispatcher, and the hostile cases cover it unedited", async () => {
    const { d: _private, ...publicJwk } = stack.authKey.privateJwk;
    const config = loadConfig({
      SUPABASE_URL: stack.supabase_url, SUPABASE_DB_URL: stack.db_url, DEVICE_TOKEN_PEPPER: "p".repeat(32),
      SUPABASE_JWKS: JSON.stringify({ keys: [publicJwk] }),
      // Never reached: every case below is refused before storage (unroutable port 9 if it were).
      DEVICE_STORAGE_DRIVER: "s3", S3_ENDPOINT: "http://127.0.0.1:9", S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s",
    });
    const sql = connectDatabase(config.dbUrl, 1);
    try {
      const ctx = {
        config, sql, storage: createStorageDriver(config), recentTokens: createRecentSet(), bootsNoted: createRecentSet(),
        verifyUser: createUserVerifier({ supabaseUrl: config.supabaseUrl, jwks: config.jwks }),
      };
      const handle = createDevicesHandler(ctx, [...ROUTES, logs]);
      const device = { "x-device-token": generateDeviceToken() };
      const user = { authorization: `Bearer ${await forgeUserJwt()}` };
      const cases = genericCases([...ROUTES, logs], {
        credentials: (r) => r.auth === "user" ? user : r.auth === "device" ? device : {},
        param: () => "0b0e9f6c-52a1-4f6e-9d1e-3c0a5b2f1e77",
      });
      const fixtureCases = cases.filter((c) => c.name.startsWith("POST /devices/logs "));
      expect(fixtureCases.length).toBeGreaterThan(30);

      const wrong: string[] = [];
      for (const c of fixtureCases) {
        const res = await handle(new Request(`http://local/functions/v1/devices/${c.route}`, {
          method: c.method, headers: { "content-type": "application/json", ...c.headers },
          body: c.method === "GET" ? undefined : c.body,
        }));
        const body = await res.json() as { error?: { code?: string } };
        if (res.status !== c.expect[0] || body.error?.code !== c.expect[1]) {
          wrong.push(`${c.name}: got ${res.status} ${JSON.stringify(body).slice(0, 120)}, want ${c.expect.join(" ")}`);
        }
      }
      expect(wrong).toEqual([]);

      const ok = await handle(new Request("http://local/devices/logs", {
        method: "POST", headers: { "content-type": "application/json", ...device }, body: JSON.stringify({ lines: ["boot"] }),
      }));
      expect([ok.status, await ok.json()]).toEqual([202, { accepted: 1 }]);
      // Without the entry, the same path is no route at all.
      const without = await createDevicesHandler(ctx)(new Request("http://local/devices/logs", {
        method: "POST", headers: { "content-type": "application/json", ...device }, body: "{}",
      }));
      expect(without.status).toBe(404);
      console.log(`route fixture: ${fixtureCases.length} hostile cases for POST /devices/logs, all as documented; ` +
        `${cases.length} generic cases over ${ROUTES.length + 1} routes`);
    } finally {
      await sql.end();
    }
  });
});
