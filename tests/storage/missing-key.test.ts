// A missing object as each store answers it, and what the function makes of that. Real S3
// whose credentials lack s3:ListBucket answers a GET of a missing key 403 AccessDenied
// (not 404 NoSuchKey); Supabase Storage answers 400 {"statusCode":"404"} (or 404). Neither
// store runs here, so a local HTTP server answers as each does (S3's error XML, Storage's JSON)
// and records the requests.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/_shared/config.ts";
import { ApiError } from "../../functions/_shared/errors.ts";
import { createS3Driver } from "../../functions/_shared/storage/s3.ts";
import { createSupabaseStorageDriver } from "../../functions/_shared/storage/supabase.ts";
import { createContext, createDevicesHandler } from "../../functions/devices/handler.ts";
import { newUser, stack } from "../support/stack.ts";

type Answer = { status: number; type: string; body: string };
const s3Error = (status: number, code: string): Answer => ({
  status, type: "application/xml",
  body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>m</Message><RequestId>r</RequestId></Error>`,
});
const ANSWERS: Record<string, Answer> = {
  "s3-no-list": s3Error(403, "AccessDenied"),
  "s3-with-list": s3Error(404, "NoSuchKey"),
  "s3-bad-signature": s3Error(403, "SignatureDoesNotMatch"),
  "s3-bad-key-id": s3Error(403, "InvalidAccessKeyId"),
  "storage-400": { status: 400, type: "application/json", body: '{"statusCode":"404","error":"not_found","message":"Object not found"}' },
  "storage-404": { status: 404, type: "application/json", body: '{"statusCode":"404","error":"not_found","message":"Object not found"}' },
};
let answer: Answer = ANSWERS["s3-no-list"];
const seen: string[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(answer.status, { "content-type": answer.type }).end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const s3 = () => createS3Driver({ endpoint: base, region: "us-east-1", bucket: "b", accessKeyId: "k", secretAccessKey: "s", uploadTtlSeconds: 300 });
const outcome = (p: Promise<unknown>) => p.then((v) => v, (e) => e instanceof ApiError ? `${e.status} ${e.code}` : String(e));

describe("the drivers on a missing key", () => {
  it("s3: 404 NoSuchKey and 403 AccessDenied (no s3:ListBucket) are both 'missing'; a refused signature or key id is 503 storage_misconfigured", async () => {
    for (const [name, inspected, got] of [
      ["s3-with-list", { exists: false }, null], ["s3-no-list", { exists: false }, null],
      ["s3-bad-signature", "503 storage_misconfigured", "503 storage_misconfigured"],
      ["s3-bad-key-id", "503 storage_misconfigured", "503 storage_misconfigured"],
    ] as const) {
      answer = ANSWERS[name];
      expect(await outcome(s3().inspectObject("devices/d/1.jpg")), name).toEqual(inspected);
      expect(await outcome(s3().getObject("devices/d/1.jpg", 1000)), name).toEqual(got);
    }
  });
  it("supabase: 400 {statusCode: 404} and 404 are 'missing'", async () => {
    const driver = createSupabaseStorageDriver({ supabaseUrl: base, serviceRoleKey: "k", bucket: "b" });
    for (const name of ["storage-400", "storage-404"]) {
      answer = ANSWERS[name];
      expect(await driver.inspectObject("devices/d/1.jpg"), name).toEqual({ exists: false });
      expect(await driver.getObject("devices/d/1.jpg", 1000), name).toBeNull();
    }
  });
});

describe("ingest of a reserved key nobody uploaded, against S3 without s3:ListBucket", () => {
  it("is 409 object_missing (the documented code, which makes the camera upload again), not 503", async () => {
    const ctx = createContext(loadConfig({
      SUPABASE_URL: stack.supabase_url, SUPABASE_DB_URL: stack.db_url, DEVICE_TOKEN_PEPPER: "p".repeat(43),
      DEVICE_STORAGE_DRIVER: "s3", DEVICE_STORAGE_BUCKET: "bkt", S3_ENDPOINT: base, S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s",
    }));
    const handler = createDevicesHandler(ctx);
    const call = async (route: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await handler(new Request(`http://fn/devices/${route}`, {
        method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
      }));
      return { status: res.status, body: await res.json() as Record<string, any> };
    };
    try {
      const user = await newUser();
      const paired = await call("pair", { name: "s3" }, { authorization: `Bearer ${user.token}` });
      const token = (await call("activate", { pairing_code: paired.body.pairing_code })).body.device_token as string;
      const h = { "x-device-token": token };
      const t = await call("upload-url", { filename: "a.jpg", content_type: "image/jpeg", seq: 1 }, h);
      answer = ANSWERS["s3-no-list"];
      seen.length = 0;
      const body = { object_key: t.body.object_key, seq: 1, captured_at: "2026-12-01T10:00:00Z" };
      const r = await call("ingest", body, h);
      expect([r.status, r.body.error?.code]).toEqual([409, "object_missing"]);
      const b = await call("ingest-batch", { items: [body] }, h);
      expect(b.body.results.map((x: any) => [x.status, x.body.error?.code])).toEqual([[409, "object_missing"]]);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((s) => s.startsWith(`GET /bkt/${t.body.object_key}`))).toBe(true);
    } finally {
      await ctx.sql.end();
    }
  });
});
