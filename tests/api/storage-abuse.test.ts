// Storage and reservations under a device token used as an attacker would: the function
// runs in this process (createDevicesHandler) against the stack's database and object store,
// with storage behind a double that counts and, where a test says so, holds requests.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/_shared/config.ts";
import type { DevicesContext } from "../../functions/devices/context.ts";
import { createSupabaseStorageDriver } from "../../functions/_shared/storage/supabase.ts";
import { createContext, createDevicesHandler } from "../../functions/devices/handler.ts";
import { LOCAL_S3_CREDENTIALS } from "../../scripts/stack/object-store.ts";
import { tableChecksums } from "../support/checksums.ts";
import { fakeJpeg, getObject, newUser, sql, stack } from "../support/stack.ts";

type Json = Record<string, any>;

/** The function in this process; storage calls counted, deletes held while `holdDeletes` is set. */
function isolate(pepper = randomBytes(32).toString("base64url")) {
  const ctx = createContext(loadConfig({
    SUPABASE_URL: stack.supabase_url, SUPABASE_DB_URL: stack.db_url, DEVICE_TOKEN_PEPPER: pepper,
    DEVICE_STORAGE_DRIVER: "s3", DEVICE_STORAGE_BUCKET: stack.storage.bucket, S3_ENDPOINT: stack.storage.endpoint,
    S3_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId, S3_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  }));
  const real = ctx.storage;
  const seen = { inspect: [] as string[], delete: [] as string[] };
  const held: Array<() => void> = [];
  const deletes: Promise<void>[] = [];
  const state = { holdDeletes: false };
  ctx.storage = {
    name: real.name, verifiesSha256: real.verifiesSha256, uploadUrlTtlSeconds: real.uploadUrlTtlSeconds,
    createUploadTarget: (k, s) => real.createUploadTarget(k, s),
    signDownloadUrls: (k, ttl) => real.signDownloadUrls(k, ttl),
    inspectObject: (k) => (seen.inspect.push(k), real.inspectObject(k)),
    deleteObject: (k) => {
      seen.delete.push(k);
      const done = (state.holdDeletes ? new Promise<void>((r) => held.push(r)) : Promise.resolve())
        .then(() => real.deleteObject(k));
      deletes.push(done.catch(() => {}));
      return done;
    },
  } satisfies DevicesContext["storage"];
  const handler = createDevicesHandler(ctx);
  const call = async (route: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await handler(new Request(`http://fn/devices/${route}`, {
      method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
    }));
    return { status: res.status, body: await res.json() as Json, headers: res.headers };
  };
  /** Lets the held deletes reach the store, `n` of them (all by default), oldest first. */
  const release = (n = held.length) => held.splice(0, n).forEach((go) => go());
  const device = async () => {
    const user = await newUser();
    const paired = await call("pair", { name: "abuse" }, { authorization: `Bearer ${user.token}` });
    const activated = await call("activate", { pairing_code: paired.body.pairing_code });
    return { headers: { "x-device-token": activated.body.device_token as string }, id: paired.body.device_id as string };
  };
  return { ctx, seen, state, held, release, deletes, call, device, end: () => ctx.sql.end() };
}

const target = (seq: number, extra: Json = {}) => ({ filename: `p${seq}.jpg`, content_type: "image/jpeg", seq, ...extra });
const ingestBody = (key: string, seq: number) =>
  ({ object_key: key, seq, captured_at: "2026-12-01T10:00:00Z", content_type: "image/jpeg" });
const put = async (t: Json, bytes: Uint8Array<ArrayBuffer>) => {
  const res = await fetch(t.upload_url, { method: "PUT", headers: t.upload_headers, body: bytes });
  await res.body?.cancel();
  return res.status;
};
const hits = async (bucket: string) => {
  const [{ n }] = await sql<{ n: number }[]>`
    select coalesce(sum(hits), 0)::int as n from device_api.rate_limit_windows where bucket = ${bucket}`;
  return n;
};

describe("storage is read only for keys the device reserved", () => {
  it("a device naming other devices' keys, its own unreserved keys or made-up ones causes no storage request", async () => {
    const t = isolate();
    try {
      const victim = await t.device();
      const attacker = await t.device();
      const victimTarget = await t.call("upload-url", target(1), victim.headers);
      expect(await put(victimTarget.body, fakeJpeg(3000))).toBe(200);
      // The attacker's token is as "recent" as it gets: it just reserved and ingested a photo of its own.
      const own = await t.call("upload-url", target(1), attacker.headers);
      expect(await put(own.body, fakeJpeg(3000))).toBe(200);
      expect((await t.call("ingest", ingestBody(own.body.object_key, 1), attacker.headers)).status).toBe(201);
      t.seen.inspect.length = 0;

      const foreign = [
        victimTarget.body.object_key as string,
        `devices/${attacker.id}/2026/12/01/7-0123abcd-p7.jpg`,
        ...Array.from({ length: 30 }, (_, i) => `devices/${victim.id}/2026/12/0${i % 9 + 1}/${i}-deadbeef-p${i}.jpg`),
      ];
      for (const key of foreign.slice(0, 4)) {
        const r = await t.call("ingest", ingestBody(key, 1), attacker.headers);
        expect([r.status, r.body.error?.code]).toEqual([403, "object_key_forbidden"]);
      }
      for (let round = 0; round < 3; round++) {
        const r = await t.call("ingest-batch", { items: foreign.map((k, i) => ingestBody(k, i + 2)) }, attacker.headers);
        expect(r.status).toBe(200);
        expect(new Set(r.body.results.map((x: Json) => `${x.status} ${x.body.error?.code}`))).toEqual(new Set(["403 object_key_forbidden"]));
      }
      expect({ inspected: t.seen.inspect, deleted: t.seen.delete }).toEqual({ inspected: [], deleted: [] });
      // The victim's photo is untouched and still ingests.
      expect((await t.call("ingest", ingestBody(victimTarget.body.object_key, 1), victim.headers)).status).toBe(201);
    } finally {
      await t.end();
    }
  });
});

describe("keys no store can hold are refused up front", () => {
  it("400 invalid_request naming object_key, before the database or storage, for long, '%', '\\\\' and bidi keys", async () => {
    const t = isolate();
    try {
      const d = await t.device();
      await t.call("upload-url", target(1), d.headers); // a recent token, as a draining camera's
      t.seen.inspect.length = 0;
      const base = `devices/${d.id}/2026/12/01/1-0123abcd-`;
      const keys = [`${base}${"€".repeat(512)}.jpg`, `${base}a%2e.jpg`, `${base}a\\b.jpg`, `${base}\u202egpj.jpg`,
        `${base}a\u200fb.jpg`, `devices/${d.id}/../x.jpg`, `devices/${d.id}//x.jpg`];
      const before = await tableChecksums();
      for (const key of keys) {
        const r = await t.call("ingest", ingestBody(key, 1), d.headers);
        expect([r.status, r.body.error?.code], key).toEqual([400, "invalid_request"]);
        expect(JSON.stringify(r.body.error.details), key).toContain("object_key");
      }
      const batch = await t.call("ingest-batch", { items: keys.map((k) => ingestBody(k, 1)) }, d.headers);
      expect(batch.body.results.map((x: Json) => x.status)).toEqual(keys.map(() => 400));
      expect(t.seen.inspect).toEqual([]);
      expect(await tableChecksums()).toEqual(before);
      // Every key upload-url hands out passes the same rule.
      const ok = await t.call("upload-url", target(2, { filename: "A-b_c.9.JPEG" }), d.headers);
      expect(ok.status).toBe(200);
      expect((await t.call("ingest", ingestBody(ok.body.object_key, 2), d.headers)).body.error?.code).toBe("object_missing");
    } finally {
      await t.end();
    }
  });
});

describe("refused bytes never cost an ingested photo", () => {
  it("two ingests refuse the same bad bytes; the camera re-uploads and ingests before the late delete lands: 20 rounds, 0 lost", async () => {
    const t = isolate();
    try {
      const d = await t.device();
      let lost = 0;
      let lateDeletes = 0;
      const ROUNDS = 20;
      for (let seq = 1; seq <= ROUNDS; seq++) {
        const first = await t.call("upload-url", target(seq), d.headers);
        expect(await put(first.body, new Uint8Array(900).fill(1))).toBe(200); // not a JPEG
        t.state.holdDeletes = true;
        t.seen.inspect.length = 0;
        // A retry of the same ingest (the camera's answer was lost) runs beside the first.
        const a = t.call("ingest", ingestBody(first.body.object_key, seq), d.headers);
        const b = t.call("ingest", ingestBody(first.body.object_key, seq), d.headers);
        while (t.seen.inspect.length < 2 || t.held.length < 1) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, 50)); // the other refusal, if it deletes, gets its delete in too
        t.release(1); // the first delete reaches the store; its ingest answers
        const answered = await Promise.race([a, b]);
        expect(["422 photo_not_jpeg", "409 object_missing"]).toContain(`${answered.status} ${answered.body.error?.code}`);
        // The camera starts over: a target for the same seq, good bytes, ingest.
        const again = await t.call("upload-url", target(seq), d.headers);
        expect(await put(again.body, fakeJpeg(2000))).toBe(200);
        const ingested = await t.call("ingest", ingestBody(again.body.object_key, seq), d.headers);
        expect(ingested.status).toBe(201);
        lateDeletes += t.held.length;
        t.release(); // whatever delete was still on its way lands now, 300 ms late
        t.state.holdDeletes = false;
        await new Promise((r) => setTimeout(r, 300));
        // The later of the two answers photo_not_jpeg too, or object_missing if the key was already retired.
        for (const r of await Promise.all([a, b])) expect(["photo_not_jpeg", "object_missing"]).toContain(r.body.error?.code);
        await Promise.all(t.deletes);
        const [item] = await sql<{ storage_key: string }[]>`select storage_key from public.source_items where id = ${ingested.body.item_id}`;
        if ((await getObject(item.storage_key)) === null) lost++;
      }
      console.log(`refused-bytes race: ${ROUNDS} rounds, ${lateDeletes} late deletes, ${lost} ingested items without their object`);
      expect(lost).toBe(0);
      // The retired keys wait, queued, until their upload URLs have expired (a PUT to one until then would be swept).
      const [{ queued }] = await sql<{ queued: number }[]>`select count(*)::int as queued from device_api.storage_deletions
        where reason = 'refused bytes' and object_key like ${`devices/${d.id}/%`} and not_before > now()`;
      expect(queued).toBe(ROUNDS);
    } finally {
      await t.end();
    }
  });
});

describe("refusals write nothing, not even rate-limit hits", () => {
  it("upload-url 409 already_ingested and the two-call path's 409 object_missing record no hit", async () => {
    const warm = isolate();
    try {
      const d = await warm.device();
      const t1 = await warm.call("upload-url", target(1), d.headers);
      expect(await put(t1.body, fakeJpeg(2000))).toBe(200);
      expect((await warm.call("ingest", ingestBody(t1.body.object_key, 1), d.headers)).status).toBe(201);
      const missing = await warm.call("upload-url", target(2), d.headers);

      const [{ user_id: userId }] = await sql`select user_id from public.devices where id = ${d.id}`;
      const buckets = ["upload-url", "upload-urls", "ingest", "ingest-batch"].flatMap((r) => [`${r}:device:${d.id}`, `${r}:user:${userId}`]);
      const snapshot = async () => Object.fromEntries(await Promise.all(buckets.map(async (b) => [b, await hits(b)])));
      const before = { hits: await snapshot(), tables: await tableChecksums() };

      const again = await warm.call("upload-url", target(1), d.headers);
      expect([again.status, again.body.error?.code]).toEqual([409, "already_ingested"]);
      const batchAgain = await warm.call("upload-urls", { items: [target(1)] }, d.headers);
      expect(batchAgain.body.results.map((x: Json) => [x.status, x.body.error?.code])).toEqual([[409, "already_ingested"]]);
      // A fresh isolate: the SQL call comes first ('inspect'), storage says missing, the second call refuses.
      const cold = isolate(warm.ctx.config.tokenPepper);
      try {
        const r = await cold.call("ingest", ingestBody(missing.body.object_key, 2), d.headers);
        expect([r.status, r.body.error?.code, cold.seen.inspect.length]).toEqual([409, "object_missing", 1]);
        const rb = await cold.call("ingest-batch", { items: [ingestBody(missing.body.object_key, 2)] }, d.headers);
        expect(rb.body.results.map((x: Json) => x.body.error?.code)).toEqual(["object_missing"]);
      } finally {
        await cold.end();
      }
      expect({ hits: await snapshot(), tables: await tableChecksums() }).toEqual(before);
    } finally {
      await warm.end();
    }
  });

  it("a refused batch envelope is 400 invalid_request with details, as the error table promises", async () => {
    const t = isolate();
    try {
      const d = await t.device();
      for (const route of ["upload-urls", "ingest-batch"]) {
        for (const [body, path] of [[{ items: [] }, "items"], [{ items: Array.from({ length: 33 }, (_, i) => target(i)) }, "items"],
          [{ items: [target(1)], extra: 1 }, "body"], [[target(1)], "body"], [{}, "items"]] as const) {
          const r = await t.call(route, body, d.headers);
          expect([r.status, r.body.error?.code], `${route} ${JSON.stringify(body).slice(0, 40)}`).toEqual([400, "invalid_request"]);
          expect(r.body.error.details).toEqual([{ path, message: r.body.error.message }]);
        }
      }
    } finally {
      await t.end();
    }
  });
});

describe("the reservation budget counts live upload URLs", () => {
  it("32 reservations whose URLs expired (photos the camera lost) do not block the next ask; 32 live ones do, for at most a URL's life", async () => {
    const t = isolate();
    try {
      const d = await t.device();
      const first = await t.call("upload-urls", { items: Array.from({ length: 32 }, (_, i) => target(i)) }, d.headers);
      expect(first.body.results.every((x: Json) => x.status === 200)).toBe(true);
      const blocked = await t.call("upload-url", target(100), d.headers);
      expect([blocked.status, blocked.body.error?.code]).toEqual([429, "too_many_reservations"]);
      const retryAfter = Number(blocked.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(t.ctx.storage.uploadUrlTtlSeconds + 60);

      // The camera evicted those photos; their URLs run out.
      await sql`update public.device_upload_reservations set signed_until = now() - interval '1 second' where device_id = ${d.id}`;
      const next = await t.call("upload-url", target(100), d.headers);
      expect(next.status).toBe(200);
      // Asking again for an expired one renews it, and it counts again.
      expect((await t.call("upload-url", target(3), d.headers)).status).toBe(200);
      const [{ live }] = await sql<{ live: number }[]>`select count(*)::int as live from public.device_upload_reservations
        where device_id = ${d.id} and ingested_at is null and signed_until > now()`;
      expect(live).toBe(2);
    } finally {
      await t.end();
    }
  });
});

describe("supabase driver: a reservation lives as long as Storage's signed upload URL", () => {
  it("signed_until is at least the URL token's exp (2 h), so the sweeper cannot free a key the device can still upload to", async () => {
    // Supabase Storage cannot run here (it needs Docker): this double answers the signing call as
    // Storage does, with a URL whose token is a JWT that expires in two hours (storage-api's
    // signed upload URLs; the API takes no TTL).
    const server = createServer((req, res) => {
      const m = /^\/storage\/v1\/object\/upload\/sign\/(.+)$/.exec(req.url ?? "");
      if (req.method !== "POST" || !m) return void res.writeHead(404).end();
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
      const token = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ url: m[1], exp: Math.floor(Date.now() / 1000) + 7200 })}.sig`;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ url: `/object/upload/sign/${m[1]}?token=${token}` }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const t = isolate();
    try {
      t.ctx.storage = createSupabaseStorageDriver({
        supabaseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, serviceRoleKey: "k", bucket: "device-photos",
      });
      const d = await t.device();
      const r = await t.call("upload-url", target(1), d.headers);
      expect(r.status).toBe(200);
      const tokenExp = JSON.parse(Buffer.from(new URL(r.body.upload_url).searchParams.get("token")!.split(".")[1], "base64url").toString()).exp;
      expect(Date.parse(r.body.expires_at)).toBe(tokenExp * 1000); // what the driver reports is the token's own expiry
      const [{ signed_until }] = await sql<{ signed_until: Date }[]>`
        select signed_until from public.device_upload_reservations where object_key = ${r.body.object_key}`;
      expect(signed_until.getTime()).toBeGreaterThanOrEqual(tokenExp * 1000);
      // A sweep now, even of reservations older than the TTL, leaves it.
      await sql`update public.device_upload_reservations set created_at = now() - interval '2 days' where object_key = ${r.body.object_key}`;
      await sql`select * from processing.sweep_uploads(p_ttl_seconds => 86400)`;
      const [{ n }] = await sql`select count(*)::int as n from public.device_upload_reservations where object_key = ${r.body.object_key}`;
      expect(n).toBe(1);
    } finally {
      await t.end();
      server.close();
    }
  });
});
