// The `supabase` storage driver against Supabase Storage's documented HTTP contract
// (signed upload URLs: POST /storage/v1/object/upload/sign/<bucket>/<key> answering
// { url: "/object/upload/sign/<bucket>/<key>?token=…" }, with x-upsert only when asked;
// reading: GET /storage/v1/object/authenticated/<bucket>/<key>, which honours Range
// (206 + Content-Range; a missing object is 400 {"statusCode":"404"}); deleting: DELETE
// /storage/v1/object/<bucket> with {"prefixes": [...]}). Supabase Storage itself cannot
// run here (it needs Docker), so a local HTTP server plays that contract and records
// the requests.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../functions/_shared/errors.ts";
import { createSupabaseStorageDriver } from "../../functions/_shared/storage/supabase.ts";

const seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"] }> = [];
const stored = new Map<string, Buffer>([["device-photos/devices/d1/present.jpg", Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])]]);
let failing = false;
// How Storage and its gateway refuse a key: the gateway 401 {"message":"Invalid API key"};
// Storage 400 with the real status in the body, or 403 (supabase/storage's error renderer).
let refusing: "gateway" | "storage-400" | "storage-403" | undefined;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    if (failing) return void res.writeHead(500).end('{"message":"boom"}');
    const json = { "content-type": "application/json" };
    if (refusing === "gateway") return void res.writeHead(401, json).end('{"message":"Invalid API key"}');
    const unauthorised = '{"statusCode":"403","error":"Unauthorized","message":"signature verification failed"}';
    if (refusing === "storage-400") return void res.writeHead(400, json).end(unauthorised);
    if (refusing === "storage-403") return void res.writeHead(403, json).end(unauthorised);
    const sign = /^\/storage\/v1\/object\/upload\/sign\/(.+)$/.exec(req.url!);
    if (req.method === "POST" && sign) {
      res.writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ url: `/object/upload/sign/${sign[1]}?token=signed-token` }));
      return;
    }
    const read = /^\/storage\/v1\/object\/authenticated\/(.+)$/.exec(req.url!);
    if (req.method === "GET" && read) {
      const bytes = stored.get(decodeURIComponent(read[1]));
      if (!bytes) {
        res.writeHead(400, { "content-type": "application/json" })
          .end('{"statusCode":"404","error":"not_found","message":"Object not found"}');
        return;
      }
      const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ""));
      if (!range) return void res.writeHead(200, { "content-length": bytes.length }).end(bytes);
      const end = Math.min(Number(range[2]), bytes.length - 1);
      res.writeHead(206, { "content-range": `bytes ${range[1]}-${end}/${bytes.length}` })
        .end(bytes.subarray(Number(range[1]), end + 1));
      return;
    }
    const del = /^\/storage\/v1\/object\/([^/]+)$/.exec(req.url!);
    if (req.method === "DELETE" && del) {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const { prefixes } = JSON.parse(body) as { prefixes: string[] };
        for (const p of prefixes) stored.delete(`${del[1]}/${p}`);
        res.writeHead(200, { "content-type": "application/json" }).end("[]");
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const driver = () => createSupabaseStorageDriver({ supabaseUrl: baseUrl, serviceRoleKey: "service-role-key", bucket: "device-photos" });

describe("supabase storage driver", () => {
  it("asks Storage for a signed upload URL with the service role, never with upsert", async () => {
    seen.length = 0;
    const target = await driver().createUploadTarget("devices/d1/2026/01/01/1-a.jpg", { contentType: "image/jpeg", size: 10 });
    expect(target.url).toBe(`${baseUrl}/storage/v1/object/upload/sign/device-photos/devices/d1/2026/01/01/1-a.jpg?token=signed-token`);
    expect(target.method).toBe("PUT");
    expect(target.headers).toEqual({ "Content-Type": "image/jpeg" });
    expect(target.expiresAt.getTime()).toBeGreaterThan(Date.now() + 60 * 60 * 1000);
    expect(seen).toHaveLength(1);
    expect(seen[0].method).toBe("POST");
    expect(seen[0].headers.authorization).toBe("Bearer service-role-key");
    expect(seen[0].headers["x-upsert"]).toBeUndefined();
  });

  it("inspects an object with one ranged GET (size and first bytes), and deletes it", async () => {
    seen.length = 0;
    const present = await driver().inspectObject("devices/d1/present.jpg");
    expect(present).toEqual({ exists: true, size: 20, head: new Uint8Array(stored.get("device-photos/devices/d1/present.jpg")!.subarray(0, 16)) });
    expect(seen).toHaveLength(1);
    expect(seen[0].headers.range).toBe("bytes=0-15");
    expect(await driver().inspectObject("devices/d1/absent.jpg")).toEqual({ exists: false });
    await driver().deleteObject("devices/d1/present.jpg");
    expect(await driver().inspectObject("devices/d1/present.jpg")).toEqual({ exists: false });
  });

  it("turns a Storage outage into 503 storage_unavailable", async () => {
    failing = true;
    try {
      const err = await driver().createUploadTarget("devices/d1/x.jpg", { contentType: "image/jpeg" }).catch((e) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect([err.status, err.code]).toEqual([503, "storage_unavailable"]);
    } finally {
      failing = false;
    }
  });

  it.each(["gateway", "storage-400", "storage-403"] as const)(
    "turns a refused key (%s) into 503 storage_misconfigured and one log line without the key",
    async (how) => {
      refusing = how;
      const logged: string[] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => void logged.push(args.join(" "));
      try {
        const calls = [
          () => driver().createUploadTarget("devices/d1/x.jpg", { contentType: "image/jpeg" }),
          () => driver().inspectObject("devices/d1/present.jpg"),
          () => driver().deleteObject("devices/d1/present.jpg"),
        ];
        for (const call of calls) {
          const err = await call().catch((e) => e);
          expect(err).toBeInstanceOf(ApiError);
          expect([err.status, err.code]).toEqual([503, "storage_misconfigured"]);
        }
      } finally {
        refusing = undefined;
        console.error = original;
      }
      expect(logged).toHaveLength(3);
      expect(logged[0]).toMatch(/Storage refused the function's key/);
      expect(logged.join("\n")).not.toContain("service-role-key");
    },
  );
});
