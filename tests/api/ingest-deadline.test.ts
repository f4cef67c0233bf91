// ingest-batch answers before the camera gives up: the function runs in this process against the
// stack's database and object store, with storage reads behind a double that holds the reads of
// chosen keys (a slow store) until the test lets them go.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/_shared/config.ts";
import type { DevicesContext } from "../../functions/devices/context.ts";
import { createContext, createDevicesHandler } from "../../functions/devices/handler.ts";
import { mapLimitedUntil } from "../../functions/devices/ingest-items.ts";
import { LOCAL_S3_CREDENTIALS } from "../../scripts/stack/object-store.ts";
import { fakeJpeg, newUser, sql, stack } from "../support/stack.ts";

type Json = Record<string, any>;

const DEADLINE_MS = 400;

function isolate() {
  const ctx = createContext(loadConfig({
    SUPABASE_URL: stack.supabase_url, SUPABASE_DB_URL: stack.db_url, DEVICE_TOKEN_PEPPER: randomBytes(32).toString("base64url"),
    DEVICE_STORAGE_DRIVER: "s3", DEVICE_STORAGE_BUCKET: stack.storage.bucket, S3_ENDPOINT: stack.storage.endpoint,
    S3_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId, S3_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
    DEVICE_INGEST_STORAGE_DEADLINE_MS: String(DEADLINE_MS),
  }));
  const real = ctx.storage;
  const slowKeys = new Set<string>();
  const held: Array<() => void> = [];
  ctx.storage = {
    name: real.name, verifiesSha256: real.verifiesSha256, uploadUrlTtlSeconds: real.uploadUrlTtlSeconds,
    createUploadTarget: (k, s) => real.createUploadTarget(k, s),
    signDownloadUrls: (k, ttl) => real.signDownloadUrls(k, ttl),
    // A slow store: a held read answers only when released, however long after the deadline that is.
    inspectObject: async (k) => {
      if (slowKeys.has(k)) await new Promise<void>((r) => held.push(r));
      return real.inspectObject(k);
    },
    deleteObject: (k) => real.deleteObject(k),
  } satisfies DevicesContext["storage"];
  const handler = createDevicesHandler(ctx);
  const call = async (route: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await handler(new Request(`http://fn/devices/${route}`, {
      method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
    }));
    return { status: res.status, body: await res.json() as Json };
  };
  const device = async () => {
    const user = await newUser();
    const paired = await call("pair", { name: "slow-store" }, { authorization: `Bearer ${user.token}` });
    const activated = await call("activate", { pairing_code: paired.body.pairing_code });
    return { headers: { "x-device-token": activated.body.device_token as string }, id: paired.body.device_id as string };
  };
  const release = () => held.splice(0).forEach((go) => go());
  return { ctx, slowKeys, held, release, call, device, end: () => ctx.sql.end() };
}

const target = (seq: number) => ({ filename: `p${seq}.jpg`, content_type: "image/jpeg", seq });
const ingestBody = (key: string, seq: number) =>
  ({ object_key: key, seq, captured_at: "2026-12-01T10:00:00Z", content_type: "image/jpeg" });
const put = async (t: Json, bytes: Uint8Array<ArrayBuffer>) => {
  const res = await fetch(t.upload_url, { method: "PUT", headers: t.upload_headers, body: bytes });
  await res.body?.cancel();
  return res.status;
};

describe("mapLimitedUntil", () => {
  it("answers late(item) for reads still in flight and items not started when the deadline comes", async () => {
    let timeUp!: () => void;
    const deadline = new Promise<void>((r) => timeUp = r);
    const started: number[] = [];
    const never = new Promise<string>(() => {});
    const run = mapLimitedUntil([0, 1, 2, 3, 4], 2, deadline, (i) => {
      started.push(i);
      return i === 1 ? never : Promise.resolve(`read ${i}`);
    }, (i) => `late ${i}`);
    // Item 1 hangs; the other worker reads 0, 2, 3, 4 before the deadline is ever given.
    await new Promise((r) => setTimeout(r, 20));
    timeUp();
    expect(await run).toEqual(["read 0", "late 1", "read 2", "read 3", "read 4"]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it("starts nothing after the deadline", async () => {
    const started: number[] = [];
    const out = await mapLimitedUntil([0, 1, 2], 1, Promise.resolve(), async (i) => (started.push(i), i), (i) => -i - 1);
    expect(started.length).toBeLessThanOrEqual(1);
    expect(out.slice(started.length)).toEqual([0, 1, 2].slice(started.length).map((i) => -i - 1));
  });
});

describe("ingest-batch with a slow store", () => {
  it("answers by the deadline: read items are queued, held ones 503 retryable and untouched, and a retry ingests them once", async () => {
    const t = isolate();
    try {
      const d = await t.device();
      const n = 6;
      const urls = await t.call("upload-urls", { items: Array.from({ length: n }, (_, i) => target(i + 1)) }, d.headers);
      expect(urls.status).toBe(200);
      const targets = urls.body.results.map((r: Json) => r.body);
      for (const [i, tg] of targets.entries()) expect(await put(tg, fakeJpeg(3000 + i))).toBe(200);
      const keys: string[] = targets.map((tg: Json) => tg.object_key);
      const slow = keys.slice(0, 3);
      slow.forEach((k) => t.slowKeys.add(k));

      // Held reads never answer before the response: only the deadline can end this call.
      const first = await t.call("ingest-batch", { items: keys.map((k, i) => ingestBody(k, i + 1)) }, d.headers);
      expect(first.status).toBe(200);
      const answers = first.body.results.map((r: Json) => [r.status, r.body.error?.code ?? r.body.status, r.retry_after]);
      expect(answers).toEqual([
        ...slow.map(() => [503, "storage_unavailable", 1]),
        ...keys.slice(3).map(() => [201, "queued", undefined]),
      ]);
      // Nothing half-done: the late items have no row, their reservation stands.
      const items = await sql<{ object_key: string }[]>`
        select storage_key as object_key from public.source_items where device_id = ${d.id} order by storage_key`;
      expect(items.map((r) => r.object_key)).toEqual([...keys.slice(3)].sort());

      // The late reads finish now, unheard; the store is fast again and the camera retries the batch.
      t.slowKeys.clear();
      t.release();
      const retry = await t.call("ingest-batch", { items: keys.map((k, i) => ingestBody(k, i + 1)) }, d.headers);
      expect(retry.body.results.map((r: Json) => [r.status, r.body.status])).toEqual([
        ...slow.map(() => [201, "queued"]),
        ...keys.slice(3).map(() => [200, "duplicate"]),
      ]);
      const after = await sql<{ object_key: string; n: number }[]>`
        select storage_key as object_key, count(*)::int as n from public.source_items where device_id = ${d.id} group by storage_key`;
      expect(after.length).toBe(n);
      expect(after.every((r) => r.n === 1)).toBe(true);
    } finally {
      t.release();
      await t.end();
    }
  }, 120_000);
});
