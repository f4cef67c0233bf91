// The listing's thumbnail and preview URLs stop working after their life: its own stack
// with 3-second photo URLs.
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStorageConfig } from "../../functions/_shared/config.ts";
import { createStorageDriver } from "../../functions/_shared/storage/index.ts";
import { createLocalUser } from "../../scripts/stack/auth.ts";
import { type Stack, startStack } from "../../scripts/stack/stack.ts";
import { localWorkerEnv } from "../../scripts/worker/stack-env.ts";
import { insertPhotoRow } from "../support/photo-rows.ts";
import { tempDir } from "../support/temp.ts";

const URL_TTL_SECONDS = 3;
let own: Stack;
let sql: postgres.Sql;
beforeAll(async () => {
  own = await startStack({
    workDir: await tempDir("lifelog-photo-urls-"), ports: "random",
    functionEnv: { DEVICE_PHOTO_URL_TTL_SECONDS: String(URL_TTL_SECONDS) },
  });
  sql = postgres(own.info.db_url, { onnotice: () => {} });
}, 240_000);
afterAll(async () => {
  await sql?.end();
  await own?.stop();
});

describe("photo URLs", () => {
  it("work within their life and are refused after it", async () => {
    const { user, accessToken } = await createLocalUser(sql, own.authKey, `p-${randomUUID().slice(0, 8)}@test.local`);
    const capturedAt = new Date("2026-12-04T10:00:00Z");
    const row = await insertPhotoRow(sql, user.id, null, { seq: 1, capturedAt, previewBytes: 5, thumbnailBytes: 5 });
    const store = createStorageDriver(loadStorageConfig(localWorkerEnv(own.info)));
    await store.putObject(row.previewKey!, new TextEncoder().encode("prev!"), "image/webp");
    await store.putObject(row.thumbnailKey!, new TextEncoder().encode("thumb"), "image/webp");

    const q = new URLSearchParams({ from: "2026-12-04T00:00:00Z", to: "2026-12-05T00:00:00Z" });
    const asked = Date.now();
    const res = await fetch(`${own.info.api_base}/devices/photos?${q}`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(200);
    const [photo] = (await res.json() as { photos: { thumbnail_url: string; preview_url: string; urls_expire_at: string }[] }).photos;
    const expires = Date.parse(photo.urls_expire_at);
    expect(expires - asked).toBeGreaterThanOrEqual(URL_TTL_SECONDS * 1000 - 1000);
    expect(expires - asked).toBeLessThanOrEqual(URL_TTL_SECONDS * 1000 + 60_000);
    // within their life (checked only while it surely lasts: a slow machine may be past it)
    if (Date.now() < expires - 1500) {
      const ok = await fetch(photo.thumbnail_url);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe("thumb");
    }
    await new Promise((r) => setTimeout(r, Math.max(0, expires - Date.now()) + 1500));
    for (const url of [photo.thumbnail_url, photo.preview_url]) {
      const late = await fetch(url);
      await late.body?.cancel();
      expect(late.status).toBe(403);
    }
  }, 120_000);
});
