// Runs under Deno: the time of upload-url's handler without its SQL call (stubbed with the row
// reserve_upload returns), and of its parts: wall clock per call in one thread, 20,000 calls
// after 2,000 warm-up (on a busy machine, the CPU it got).
//   node_modules/.bin/deno run --config deno.json --allow-all scripts/bench/handler-cpu.ts
import { loadConfig } from "../../functions/_shared/config.ts";
import { createDevicesHandler } from "../../functions/devices/handler.ts";
import { createStorageDriver } from "../../functions/_shared/storage/index.ts";
import { createRecentSet } from "../../functions/_shared/auth/recent-tokens.ts";
import { generateDeviceToken, hashDeviceToken } from "../../functions/_shared/auth/device-token.ts";
import { readJsonBody } from "../../functions/_shared/request.ts";
import { UploadUrlRequest } from "../../functions/devices/routes/upload-url.ts";

const config = loadConfig({
  SUPABASE_URL: "http://127.0.0.1:1", SUPABASE_DB_URL: "postgresql://x:y@127.0.0.1:1/p", SUPABASE_JWKS: '{"keys":[]}',
  DEVICE_TOKEN_PEPPER: "p".repeat(43), DEVICE_STORAGE_DRIVER: "s3", DEVICE_STORAGE_BUCKET: "device-photos",
  S3_ENDPOINT: "http://127.0.0.1:2", S3_REGION: "us-east-1", S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s",
});
const row = { status: "reserved", device_id: crypto.randomUUID(), object_key: `devices/${crypto.randomUUID()}/2026/12/02/5-abcdef12-p5.jpg`, item_id: null, declared_size: null, sha256: null };
const fakeSql = ((..._a: unknown[]) => Promise.resolve([row])) as never;
const storage = createStorageDriver(config);
const handler = createDevicesHandler({ config, sql: fakeSql, storage, verifyUser: (() => { throw new Error(); }) as never, recentTokens: createRecentSet(), bootsNoted: createRecentSet() });
const token = generateDeviceToken();
const body = JSON.stringify({ filename: "p5.jpg", content_type: "image/jpeg", seq: 5 });
const mkReq = () => new Request("http://127.0.0.1/devices/upload-url", { method: "POST", headers: { "content-type": "application/json", "x-device-token": token }, body });
console.log = () => {}; // the per-request log line goes to a pipe in the stack; here nowhere
const N = 20000;
const time = async (label: string, f: () => Promise<unknown>) => {
  for (let i = 0; i < 2000; i++) await f();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await f();
  Deno.stderr.writeSync(new TextEncoder().encode(`${label}: ${((performance.now() - t0) * 1000 / N).toFixed(1)} µs\n`));
};
await time("whole handler, SQL stubbed", async () => { const r = await handler(mkReq()); await r.text(); });
await time("new Request", async () => mkReq());
await time("token hash (HMAC)", () => hashDeviceToken(token, config.tokenPepper));
await time("readJsonBody + zod", () => readJsonBody(mkReq(), UploadUrlRequest));
await time("presign PUT", () => storage.createUploadTarget(row.object_key, { contentType: "image/jpeg" }));
await time("JSON.stringify log line", async () => JSON.stringify({ route: "upload-url", status: 200, ms: 3 }));
