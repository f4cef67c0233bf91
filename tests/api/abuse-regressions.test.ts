// Abuse regressions: each finding of an abuse run against the API (rewritten photos, storage
// writes after a revoke, size and type where the bytes land, storage filled without ingesting,
// inputs that gave 500s, forged tokens reaching storage) as a test: what it found must no longer work.
import { createRecentSet } from "../../functions/_shared/auth/recent-tokens.ts";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../functions/_shared/errors.ts";
import type { DevicesContext } from "../../functions/devices/context.ts";
import { loadConfig } from "../../functions/_shared/config.ts";
import { connectDatabase } from "../../functions/_shared/db.ts";
import { createUserVerifier } from "../../functions/_shared/auth/user-jwt.ts";
import { createDevicesHandler } from "../../functions/devices/handler.ts";
import { generateDeviceToken } from "../../functions/_shared/auth/device-token.ts";
import { objectStoreChecksum, stackStorage, tableChecksums } from "../support/checksums.ts";
import { forgeUserJwt } from "../support/jwt.ts";
import {
  activatedDevice, deviceHeaders, fakeJpeg, getObject, ingestBody, newUser, pairDevice, post, sql, stack,
  type UploadTargetBody, uploadUrlBody,
} from "../support/stack.ts";

const sha256Hex = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const put = async (t: UploadTargetBody, body: Uint8Array<ArrayBuffer> | string, headers = t.upload_headers) => {
  const r = await fetch(t.upload_url, { method: "PUT", headers, body });
  return { status: r.status, text: await r.text() };
};

async function target(token: string, seq: number, extra: Record<string, unknown> = {}) {
  const r = await post<UploadTargetBody>("upload-url", uploadUrlBody(seq, extra), deviceHeaders(token));
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

describe("1. an ingested photo cannot be rewritten", () => {
  it("upload-url for an ingested seq is 409 already_ingested with the item; an earlier URL cannot overwrite", async () => {
    const device = await activatedDevice();
    const bytes = fakeJpeg(4096);
    const t = await target(device.token, 1, { size: bytes.length, sha256: sha256Hex(bytes) });
    const spare = await target(device.token, 1, { size: bytes.length, sha256: sha256Hex(bytes) }); // a second, still valid URL
    expect((await put(t, bytes)).status).toBe(200);
    const ingested = await post<{ item_id: string }>("ingest", ingestBody(t.object_key, 1), deviceHeaders(device.token));
    expect(ingested.status).toBe(201);

    const again = await post("upload-url", uploadUrlBody(1, { size: bytes.length, sha256: sha256Hex(bytes) }), deviceHeaders(device.token));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: "already_ingested", item_id: ingested.body.item_id } });
    // The URL issued before the ingest: same key, but the store refuses to overwrite.
    const other = fakeJpeg(4096);
    const over = await put(spare, other, { ...spare.upload_headers, "x-amz-checksum-sha256": createHash("sha256").update(other).digest("base64") });
    expect(over.status).not.toBe(200);
    const overSame = await put(spare, bytes);
    expect(overSame.status).toBe(412);
    expect(overSame.text).toContain("PreconditionFailed");
    expect(sha256Hex((await getObject(t.object_key))!)).toBe(sha256Hex(bytes));
  });
});

describe("2. storage writes end with the device", () => {
  it("upload URLs live minutes (DEVICE_UPLOAD_TTL_SECONDS, 300 s by default)", async () => {
    const device = await activatedDevice();
    const t = await target(device.token, 1);
    const life = (Date.parse(t.expires_at) - Date.now()) / 1000;
    expect(life).toBeGreaterThan(250);
    expect(life).toBeLessThanOrEqual(300);
    expect(new URL(t.upload_url).searchParams.get("X-Amz-Expires")).toBe("300");
  });
  it("no PUT over an existing object, and an object PUT after the revoke is never ingested", async () => {
    const device = await activatedDevice();
    const t = await target(device.token, 1);
    expect((await put(t, fakeJpeg())).status).toBe(200);
    expect((await put(t, fakeJpeg())).status).toBe(412);
    const late = await target(device.token, 2);
    await sql`update public.devices set revoked_at = now() where id = ${device.deviceId}`;
    expect((await put(late, fakeJpeg())).status).toBe(200); // the URL is still inside its short life
    const r = await post("ingest", ingestBody(late.object_key, 2), deviceHeaders(device.token));
    expect([r.status, (r.body as { error: { code: string } }).error.code]).toEqual([401, "token_revoked"]);
    const [{ n }] = await sql`select count(*)::int as n from public.source_items where device_id = ${device.deviceId}`;
    expect(n).toBe(0);
  });
});

describe("3. size and type are enforced where the bytes land", () => {
  it("a declared size is signed: 12 MiB on a 1,000-byte URL is refused by the store", async () => {
    const device = await activatedDevice();
    const t = await target(device.token, 1, { size: 1000 });
    expect(new URL(t.upload_url).searchParams.get("X-Amz-SignedHeaders")).toContain("content-length");
    // The store answers 403 before the body is in and closes, as S3 may: the sender
    // sees the 403 or a connection cut mid-body.
    const r = await put(t, fakeJpeg(12 * 1024 * 1024)).catch(() => ({ status: 403, text: "SignatureDoesNotMatch (cut)" }));
    expect(r.status).toBe(403);
    expect(r.text).toContain("SignatureDoesNotMatch");
    expect(await getObject(t.object_key)).toBeNull();
  });
  it("without a declared size, ingest measures the stored bytes: over the limit is 413 and the object is deleted", async () => {
    const device = await activatedDevice();
    const t = await target(device.token, 1);
    expect((await put(t, fakeJpeg(10 * 1024 * 1024 + 1))).status).toBe(200);
    const r = await post("ingest", ingestBody(t.object_key, 1), deviceHeaders(device.token));
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ error: { code: "photo_too_large" } });
    expect(await getObject(t.object_key)).toBeNull();
  });
  it("HTML sent as image/jpeg is 422 photo_not_jpeg and deleted; the device may upload the photo again", async () => {
    const device = await activatedDevice();
    const t = await target(device.token, 1);
    expect((await put(t, "<html><body>not a photo</body></html>")).status).toBe(200);
    const r = await post("ingest", ingestBody(t.object_key, 1), deviceHeaders(device.token));
    expect([r.status, (r.body as { error: { code: string } }).error.code]).toEqual([422, "photo_not_jpeg"]);
    expect(await getObject(t.object_key)).toBeNull();
    const retry = await target(device.token, 1);
    expect((await put(retry, fakeJpeg())).status).toBe(200);
    expect((await post("ingest", ingestBody(retry.object_key, 1), deviceHeaders(device.token))).status).toBe(201);
  });
  it("an empty object is 422 photo_size_mismatch", async () => {
    const device = await activatedDevice();
    const t = await target(device.token, 1);
    expect((await put(t, "")).status).toBe(200);
    const r = await post("ingest", ingestBody(t.object_key, 1), deviceHeaders(device.token));
    expect([r.status, (r.body as { error: { code: string } }).error.code]).toEqual([422, "photo_size_mismatch"]);
  });
  it("bytes that differ from the declared SHA-256 are refused by the store (400 BadDigest); the item records the verified checksum", async () => {
    const device = await activatedDevice();
    const bytes = fakeJpeg(3000);
    const t = await target(device.token, 1, { size: bytes.length, sha256: sha256Hex(bytes) });
    expect(t.upload_headers["x-amz-checksum-sha256"]).toBe(createHash("sha256").update(bytes).digest("base64"));
    const corrupted = bytes.slice();
    corrupted[1500] ^= 0x01;
    const bad = await put(t, corrupted);
    expect(bad.status).toBe(400);
    expect(bad.text).toContain("<Code>BadDigest</Code>");
    expect(await getObject(t.object_key)).toBeNull();
    expect((await put(t, bytes)).status).toBe(200);
    const r = await post<{ item_id: string }>("ingest",
      ingestBody(t.object_key, 1, { metadata: { sha256: sha256Hex(bytes) } }), deviceHeaders(device.token));
    expect(r.status).toBe(201);
    const [item] = await sql`select sha256, sha256_verified, size_bytes from public.source_items where id = ${r.body.item_id}`;
    expect(item).toEqual({ sha256: sha256Hex(bytes), sha256_verified: true, size_bytes: "3000" });
  });
  it("an ingest whose metadata.sha256 differs from the signed one is 409 checksum_mismatch", async () => {
    const device = await activatedDevice();
    const bytes = fakeJpeg(3000);
    const t = await target(device.token, 1, { sha256: sha256Hex(bytes) });
    expect((await put(t, bytes)).status).toBe(200);
    const r = await post("ingest", ingestBody(t.object_key, 1, { metadata: { sha256: "0".repeat(64) } }), deviceHeaders(device.token));
    expect([r.status, (r.body as { error: { code: string } }).error.code]).toEqual([409, "checksum_mismatch"]);
  });
});

describe("4. a device cannot fill storage without ingesting", () => {
  it("holds at most DEVICE_MAX_OUTSTANDING_UPLOADS (32) reservations; the 33rd is 429 too_many_reservations", async () => {
    const device = await activatedDevice();
    const statuses: number[] = [];
    for (let seq = 0; seq < 33; seq++) statuses.push((await post("upload-url", uploadUrlBody(seq), deviceHeaders(device.token))).status);
    expect(statuses.slice(0, 32).every((s) => s === 200)).toBe(true);
    const r = await post("upload-url", uploadUrlBody(99), deviceHeaders(device.token));
    expect(r.status).toBe(429);
    expect(r.body).toMatchObject({ error: { code: "too_many_reservations" } });
    // Until the first of the live upload URLs expires (the URL's lifetime and its signing margin), never a day.
    const retryAfter = Number(r.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(300 + 60);
    // asking again for a seq it holds still works
    expect((await post("upload-url", uploadUrlBody(5), deviceHeaders(device.token))).status).toBe(200);
  });
  it("seq is within 0 … 2^32-1", async () => {
    const device = await activatedDevice();
    expect((await post("upload-url", uploadUrlBody(4294967295), deviceHeaders(device.token))).status).toBe(200);
    for (const seq of [4294967296, 2 ** 53 - 1]) {
      const r = await post("upload-url", uploadUrlBody(seq), deviceHeaders(device.token));
      expect(r.status).toBe(400);
    }
  });
});

describe("7. client input that used to give 500s is 400/401", () => {
  const codeOf = (r: { body: unknown }) => (r.body as { error: { code: string } }).error.code;
  it("NUL in name, NUL and lone surrogates in metadata keys and values", async () => {
    const user = await newUser();
    const auth = { authorization: `Bearer ${user.token}` };
    const r = await post("pair", '{"name":"cam\\u0000"}', auth);
    expect([r.status, codeOf(r)]).toEqual([400, "invalid_request"]);
    const device = await activatedDevice();
    const t = await target(device.token, 1);
    for (const metadata of ['{"a\\u0000":1}', '{"a":"\\u0000"}', '{"a":"\\ud800"}', '{"\\udc00":1}']) {
      const body = JSON.stringify(ingestBody(t.object_key, 1)).replace(/}$/, `,"metadata":${metadata}}`);
      const m = await post("ingest", body, deviceHeaders(device.token));
      expect([m.status, codeOf(m)], metadata).toEqual([400, "invalid_request"]);
    }
  });
  it("captured_at of year 0, 1 BC, 9999, or before 1970", async () => {
    const device = await activatedDevice();
    const t = await target(device.token, 1);
    for (const captured_at of ["0000-01-01T00:00:00+01:00", "-000001-06-01T00:00:00+02:00", "9999-12-31T23:59:59Z", "1969-12-31T23:59:59Z"]) {
      const r = await post("ingest", ingestBody(t.object_key, 1, { captured_at }), deviceHeaders(device.token));
      expect([r.status, codeOf(r)], captured_at).toEqual([400, "invalid_request"]);
    }
  });
  it("a user JWT whose sub is not a uuid, or without exp", async () => {
    for (const jwt of [await forgeUserJwt({ sub: "not-a-uuid" }), await forgeUserJwt({ exp: null })]) {
      const r = await post("pair", {}, { authorization: `Bearer ${jwt}` });
      expect([r.status, codeOf(r)]).toEqual([401, "invalid_authorization"]);
    }
  });
});

describe("8. ingest checks the token before storage", () => {
  it("a forged token with a valid checksum is 401 without a storage call; keys storage would choke on are 400", async () => {
    const config = loadConfig({
      SUPABASE_URL: stack.supabase_url, SUPABASE_DB_URL: stack.db_url, DEVICE_TOKEN_PEPPER: "x".repeat(32),
      DEVICE_STORAGE_DRIVER: "s3", S3_ENDPOINT: "http://127.0.0.1:9", S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s",
    });
    const calls: string[] = [];
    const storage: DevicesContext["storage"] = {
      name: "recording", verifiesSha256: true, uploadUrlTtlSeconds: 300,
      createUploadTarget: () => { calls.push("sign"); throw new Error("no"); },
      inspectObject: () => { calls.push("inspect"); throw new ApiError(503, "storage_unavailable", "down"); },
      deleteObject: () => { calls.push("delete"); throw new Error("no"); },
      signDownloadUrls: () => { calls.push("sign-get"); throw new Error("no"); },
    };
    const db = connectDatabase(stack.db_url, 1);
    try {
      const ctx = { config, sql: db, storage, verifyUser: createUserVerifier({ supabaseUrl: stack.supabase_url }), recentTokens: createRecentSet(), bootsNoted: createRecentSet() };
      // A key no store could hold is refused by the request schema, before the token's lookup.
      for (const [key, status, code] of [["devices/x/1.jpg", 401, "invalid_token"],
                                         [`devices/${"%".repeat(100)}/\u202e.jpg`, 400, "invalid_request"]] as const) {
        const req = new Request("http://x/devices/ingest", {
          method: "POST",
          headers: { "content-type": "application/json", "x-device-token": generateDeviceToken() },
          body: JSON.stringify(ingestBody(key, 1)),
        });
        const res = await createDevicesHandler(ctx)(req);
        expect([res.status, (await res.json()).error.code]).toEqual([status, code]);
      }
      expect(calls).toEqual([]);
    } finally {
      await db.end();
    }
  });
});

describe("9. smaller findings", () => {
  const codeOf = (r: { body: unknown }) => (r.body as { error: { code: string; details?: unknown } }).error;
  it("a refused activation (409 device_revoked) leaves the code unused", async () => {
    const user = await newUser();
    const paired = await pairDevice(user.token);
    await sql`update public.devices set revoked_at = now() where id = ${paired.device_id}`;
    const r = await post("activate", { pairing_code: paired.pairing_code });
    expect(r.status).toBe(409);
    const [code] = await sql`select used_at from public.device_pairing_codes where device_id = ${paired.device_id}`;
    expect(code.used_at).toBeNull();
  });
  it("'.' and '..' segments are invalid_request with details", async () => {
    const device = await activatedDevice();
    for (const key of [`devices/${device.deviceId}/../x.jpg`, `devices/./x.jpg`]) {
      const r = await post("ingest", ingestBody(key, 1), deviceHeaders(device.token));
      expect(r.status).toBe(400);
      expect(codeOf(r)).toMatchObject({ code: "invalid_request", details: [{ path: "object_key" }] });
    }
  });
  it("a __proto__ key in metadata is refused, not dropped", async () => {
    const device = await activatedDevice();
    const t = await target(device.token, 1);
    const body = JSON.stringify(ingestBody(t.object_key, 1)).replace(/}$/, ',"metadata":{"__proto__":{"x":1}}}');
    const r = await post("ingest", body, deviceHeaders(device.token));
    expect(r.status).toBe(400);
    expect(codeOf(r)).toMatchObject({ code: "invalid_request", details: [{ path: "metadata.__proto__" }] });
  });
  it("checksums of tables and store do not move for all of these refusals", async () => {
    const device = await activatedDevice();
    const t = await target(device.token, 1);
    const before = [await tableChecksums(), await objectStoreChecksum()];
    await post("ingest", ingestBody(t.object_key, 1, { captured_at: "9999-01-01T00:00:00Z" }), deviceHeaders(device.token));
    await post("ingest", ingestBody(t.object_key, 1), deviceHeaders(device.token)); // object_missing
    expect([await tableChecksums(), await objectStoreChecksum()]).toEqual(before);
    void stackStorage;
  });
});
