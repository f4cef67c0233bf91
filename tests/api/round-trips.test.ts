// Database round trips and storage calls per request, counted on the real
// handler with the real database and the real S3 store behind its SigV4 gate: only the
// counting wrappers around `sql` and the storage driver are added.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/_shared/config.ts";
import type { Sql } from "../../functions/_shared/db.ts";
import type { DevicesContext } from "../../functions/devices/context.ts";
import { createContext, createDevicesHandler } from "../../functions/devices/handler.ts";
import { LOCAL_S3_CREDENTIALS } from "../../scripts/stack/object-store.ts";
import { newUser, sql as admin, stack } from "../support/stack.ts";

function countedContext(
  { databaseBucket, pepper = randomBytes(32).toString("base64url") }: { databaseBucket?: string; pepper?: string } = {},
) {
  const ctx = createContext(loadConfig({
    SUPABASE_URL: stack.supabase_url, SUPABASE_DB_URL: stack.db_url,
    DEVICE_TOKEN_PEPPER: pepper,
    DEVICE_STORAGE_DRIVER: "s3", DEVICE_STORAGE_BUCKET: stack.storage.bucket, S3_ENDPOINT: stack.storage.endpoint,
    S3_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId, S3_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  }));
  const counts = { sql: 0, inspect: 0, delete: 0 };
  const realSql = ctx.sql;
  ctx.sql = new Proxy(realSql, {
    apply: (target, self, args) => {
      counts.sql++;
      return Reflect.apply(target, self, args);
    },
  }) as Sql;
  const real = ctx.storage;
  ctx.storage = {
    name: real.name, verifiesSha256: real.verifiesSha256, databaseBucket, uploadUrlTtlSeconds: real.uploadUrlTtlSeconds,
    createUploadTarget: (k, s) => real.createUploadTarget(k, s),
    inspectObject: (k) => (counts.inspect++, real.inspectObject(k)),
    deleteObject: (k) => (counts.delete++, real.deleteObject(k)),
    signDownloadUrls: (k, ttl) => real.signDownloadUrls(k, ttl),
  } satisfies DevicesContext["storage"];
  const handler = createDevicesHandler(ctx);
  const call = async (route: string, body: unknown, headers: Record<string, string>) => {
    const res = await handler(new Request(`http://fn/devices/${route}`, {
      method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
    }));
    return { status: res.status, body: await res.json() as Record<string, any> };
  };
  const reset = () => Object.assign(counts, { sql: 0, inspect: 0, delete: 0 });
  return { ctx, counts, call, reset, end: () => realSql.end() };
}

const jpeg = (n: number) => {
  const b = new Uint8Array(n).fill(7);
  b.set([0xff, 0xd8, 0xff, 0xe0]);
  return b;
};
const ingestBody = (key: string, seq: number) =>
  ({ object_key: key, seq, captured_at: "2026-12-01T10:00:00Z", content_type: "image/jpeg" });

async function device(t: ReturnType<typeof countedContext>) {
  const user = await newUser();
  const paired = await t.call("pair", { name: "rt" }, { authorization: `Bearer ${user.token}` });
  const activated = await t.call("activate", { pairing_code: paired.body.pairing_code }, {});
  return { "x-device-token": activated.body.device_token as string, deviceId: paired.body.device_id as string };
}

describe("one database round trip per request", () => {
  it("s3: upload-url is 1 SQL call; the drain's ingest is 1 storage read + 1 SQL call; its duplicate 1 SQL call", async () => {
    const t = countedContext();
    try {
      const { deviceId, ...h } = await device(t);
      t.reset();
      const target = await t.call("upload-url", { filename: "a.jpg", content_type: "image/jpeg", seq: 5, size: 2000 }, h);
      expect([target.status, t.counts.sql]).toEqual([200, 1]);
      const put = await fetch(target.body.upload_url, { method: "PUT", headers: target.body.upload_headers, body: jpeg(2000) });
      expect(put.status).toBe(200);

      t.reset();
      const first = await t.call("ingest", ingestBody(target.body.object_key, 5), h);
      expect([first.status, first.body.status, t.counts.sql, t.counts.inspect]).toEqual([201, "queued", 1, 1]);
      t.reset();
      const again = await t.call("ingest", ingestBody(target.body.object_key, 5), h);
      expect([again.status, again.body.status, again.body.item_id, t.counts.sql, t.counts.inspect])
        .toEqual([200, "duplicate", first.body.item_id, 1, 0]);
      const [{ n }] = await admin<{ n: number }[]>`select count(*)::int as n from public.source_items where device_id = ${deviceId}`;
      expect(n).toBe(1);
    } finally {
      await t.end();
    }
  });

  it("s3: a token this isolate has not seen is checked before storage (2 SQL calls), and rate limits count once", async () => {
    const t = countedContext();
    try {
      const { deviceId, ...h } = await device(t);
      const target = await t.call("upload-url", { filename: "b.jpg", content_type: "image/jpeg", seq: 6 }, h);
      await fetch(target.body.upload_url, { method: "PUT", headers: target.body.upload_headers, body: jpeg(900) });
      // Same database and pepper, a fresh isolate: its recent-token set is empty.
      const cold = countedContext({ pepper: t.ctx.config.tokenPepper });
      try {
        const [{ before }] = await admin<{ before: number }[]>`
          select coalesce(sum(hits), 0)::int as before from device_api.rate_limit_windows where bucket = ${"ingest:device:" + deviceId}`;
        const r = await cold.call("ingest", ingestBody(target.body.object_key, 6), h);
        expect([r.status, cold.counts.sql, cold.counts.inspect]).toEqual([201, 2, 1]);
        const [{ after }] = await admin<{ after: number }[]>`
          select coalesce(sum(hits), 0)::int as after from device_api.rate_limit_windows where bucket = ${"ingest:device:" + deviceId}`;
        expect(after - before).toBe(1);
      } finally {
        await cold.end();
      }
    } finally {
      await t.end();
    }
  });

  it("supabase driver: ingest judges the object from storage.objects in its one SQL call, with no storage request", async () => {
    const bucket = `rt-${randomBytes(4).toString("hex")}`;
    await admin`insert into storage.buckets (id, name) values (${bucket}, ${bucket})`;
    const t = countedContext({ databaseBucket: bucket });
    try {
      const { ...h } = await device(t);
      const reserve = async (seq: number, size?: number) =>
        (await t.call("upload-url", { filename: `s${seq}.jpg`, content_type: "image/jpeg", seq, size }, h)).body.object_key as string;
      // A row as Storage writes it on upload (storage-api: metadata eTag, size, mimetype, …).
      const stored = (key: string, size: number, mimetype = "image/jpeg") => admin`
        insert into storage.objects (bucket_id, name, metadata)
        values (${bucket}, ${key}, ${admin.json({ eTag: "\"x\"", size, mimetype, cacheControl: "max-age=3600",
                                                   contentLength: size, httpStatusCode: 200 })})`;
      const ok = await reserve(1);
      await stored(ok, 4096);
      t.reset();
      const r = await t.call("ingest", ingestBody(ok, 1), h);
      expect([r.status, r.body.status, t.counts.sql, t.counts.inspect]).toEqual([201, "queued", 1, 0]);
      const [item] = await admin<{ size_bytes: string }[]>`select size_bytes from public.source_items where id = ${r.body.item_id}`;
      expect(Number(item.size_bytes)).toBe(4096);

      const missing = await reserve(2);
      t.reset();
      const m = await t.call("ingest", ingestBody(missing, 2), h);
      expect([m.status, m.body.error.code, t.counts.sql, t.counts.inspect]).toEqual([409, "object_missing", 1, 0]);

      const wrongSize = await reserve(3, 5000);
      await stored(wrongSize, 4999);
      t.reset();
      const w = await t.call("ingest", ingestBody(wrongSize, 3), h);
      expect([w.status, w.body.error.code, t.counts.delete]).toEqual([422, "photo_size_mismatch", 1]);

      const notJpeg = await reserve(4);
      await stored(notJpeg, 100, "image/png");
      const p = await t.call("ingest", ingestBody(notJpeg, 4), h);
      expect([p.status, p.body.error.code]).toEqual([422, "photo_not_jpeg"]);
    } finally {
      await t.end();
    }
  });
});
