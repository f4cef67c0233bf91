// The batch routes: POST /devices/upload-urls and /devices/ingest-batch give
// each item the status and body its single route would have given it, in one call.
import { describe, expect, it } from "vitest";
import { tableChecksums } from "../support/checksums.ts";
import { activatedDevice, deviceHeaders, deviceItemsAndJobs, fakeJpeg, ingestBody, post, sql, uploadPhoto, uploadUrlBody } from "../support/stack.ts";

type Result = { status: number; body: Record<string, any> };
const results = (r: { body: unknown }) => (r.body as { results: Result[] }).results;
const codeOf = (r: Result) => r.body?.error?.code;

describe("POST /devices/upload-urls", () => {
  it("answers each item as upload-url would: signed targets beside refused items", async () => {
    const device = await activatedDevice();
    const h = deviceHeaders(device.token);
    const done = await uploadPhoto(device.token, 1, fakeJpeg(3000));
    const ingested = await post("ingest", ingestBody(done.object_key, 1), h);
    expect(ingested.status).toBe(201);

    const items = [uploadUrlBody(2), uploadUrlBody(1), uploadUrlBody(3, { filename: "../x.jpg" }), uploadUrlBody(4, { content_type: "image/png" }),
      uploadUrlBody(5, { size: 10 ** 9 }), uploadUrlBody(2)];
    const batch = await post("upload-urls", { items }, h);
    expect(batch.status).toBe(200);
    const r = results(batch);
    expect(r.map((x) => x.status)).toEqual([200, 409, 400, 415, 413, 200]);
    // The same items one by one give the same statuses and codes.
    for (const [i, item] of items.entries()) {
      const single = await post("upload-url", item, h);
      expect([single.status, (single.body as any).error?.code]).toEqual([r[i].status, codeOf(r[i])]);
    }
    expect(r[1].body.error.item_id).toBe((ingested.body as any).item_id);
    expect(r[0].body.object_key).toBe(r[5].body.object_key);
    const put = await fetch(r[0].body.upload_url, { method: "PUT", headers: r[0].body.upload_headers, body: fakeJpeg(2000) });
    expect(put.status).toBe(200);
    // One hit for the batch, none for the single route.
    const [{ hits }] = await sql`select coalesce(sum(hits), 0)::int as hits from device_api.rate_limit_windows
                                  where bucket = ${"upload-urls:device:" + device.deviceId}`;
    expect(hits).toBe(1);
  });

  it("refuses a bad envelope and a bad token for the whole batch, and writes nothing", async () => {
    const device = await activatedDevice();
    const h = deviceHeaders(device.token);
    const before = await tableChecksums();
    for (const body of [{}, { items: [] }, { items: Array.from({ length: 33 }, (_, i) => uploadUrlBody(i)) }, { items: uploadUrlBody(1) },
      { items: [uploadUrlBody(1)], extra: 1 }, [uploadUrlBody(1)]]) {
      const r = await post("upload-urls", body, h);
      expect([r.status, (r.body as any).error.code]).toEqual([400, "invalid_request"]);
    }
    const forged = await post("upload-urls", { items: [uploadUrlBody(1)] }, deviceHeaders("devtok_" + "A".repeat(38)));
    expect(forged.status).toBe(401);
    // Items all refused at the edge: nothing reaches the database.
    const bad = await post("upload-urls", { items: [uploadUrlBody(1, { filename: "a\u0000.jpg" }), uploadUrlBody(2, { seq: -1 })] }, h);
    expect(results(bad).map((x) => [x.status, codeOf(x)])).toEqual([[400, "invalid_request"], [400, "invalid_request"]]);
    expect(await tableChecksums()).toEqual(before);
  });
});

describe("POST /devices/ingest-batch", () => {
  it("ingests the good items, refuses the bad ones by themselves, and leaves no trace of the refused", async () => {
    const device = await activatedDevice();
    const other = await activatedDevice();
    const h = deviceHeaders(device.token);
    const a = await uploadPhoto(device.token, 10, fakeJpeg(4000));
    const b = await uploadPhoto(device.token, 11, fakeJpeg(5000));
    const notUploaded = await post("upload-url", uploadUrlBody(12), h);
    const foreign = await uploadPhoto(other.token, 10, fakeJpeg(4000));
    const notJpeg = await post("upload-url", uploadUrlBody(13), h);
    const put = await fetch((notJpeg.body as any).upload_url, {
      method: "PUT", headers: (notJpeg.body as any).upload_headers, body: new Uint8Array(900).fill(1),
    });
    expect(put.status).toBe(200);

    const items = [ingestBody(a.object_key, 10), ingestBody(b.object_key, 11),
      ingestBody((notUploaded.body as any).object_key, 12), ingestBody(foreign.object_key, 10),
      ingestBody((notJpeg.body as any).object_key, 13), ingestBody(a.object_key, 10, { metadata: { x: "\u0000" } }),
      ingestBody(a.object_key, 10)];
    const first = await post("ingest-batch", { items }, h);
    expect(first.status).toBe(200);
    const r = results(first);
    expect(r.map((x) => [x.status, x.body.status ?? codeOf(x)])).toEqual([
      [201, "queued"], [201, "queued"], [409, "object_missing"], [403, "object_key_forbidden"], [422, "photo_not_jpeg"],
      [400, "invalid_request"], [200, "duplicate"],
    ]);
    expect(r[6].body.item_id).toBe(r[0].body.item_id);

    // Again: every item answers as the single route would now, and nothing moves.
    const before = await tableChecksums();
    const again = results(await post("ingest-batch", { items }, h));
    expect(again.map((x) => [x.status, x.body.status ?? codeOf(x)])).toEqual([
      [200, "duplicate"], [200, "duplicate"], [409, "object_missing"], [403, "object_key_forbidden"],
      [409, "object_missing"], [400, "invalid_request"], [200, "duplicate"],
    ]);
    for (const [i, item] of items.entries()) {
      const single = await post("ingest", item, h);
      expect([single.status, (single.body as any).status ?? (single.body as any).error?.code])
        .toEqual([again[i].status, again[i].body.status ?? codeOf(again[i])]);
    }
    expect(await tableChecksums()).toEqual(before);
    expect(await deviceItemsAndJobs(device.deviceId)).toEqual({ items: 2, jobs: 2 });
  });

  it("10 concurrent batches of the same photos make one item and one job per seq", async () => {
    const device = await activatedDevice();
    const h = deviceHeaders(device.token);
    const targets = [];
    for (let seq = 20; seq < 25; seq++) targets.push(await uploadPhoto(device.token, seq, fakeJpeg(2500)));
    const items = targets.map((t, i) => ingestBody(t.object_key, 20 + i));
    const all = await Promise.all(Array.from({ length: 10 }, (_, k) =>
      post("ingest-batch", { items: k % 2 ? [...items].reverse() : items }, h)));
    expect(new Set(all.map((x) => x.status))).toEqual(new Set([200]));
    for (let i = 0; i < items.length; i++) {
      const answers = all.map((x, k) => results(x)[k % 2 ? items.length - 1 - i : i]);
      expect(answers.filter((x) => x.status === 201)).toHaveLength(1);
      expect(answers.filter((x) => x.status === 200)).toHaveLength(9);
      expect(new Set(answers.map((x) => x.body.item_id)).size).toBe(1);
    }
    expect(await deviceItemsAndJobs(device.deviceId)).toEqual({ items: 5, jobs: 5 });
  });
});

describe("a hostile sample, item by item", () => {
  // Field values of the hostile suite's kind; each also sent alone to the single route.
  const hostile: unknown[] = [
    null, 7, "x", [], {},
    ...[{ seq: 2 ** 32 }, { seq: 1.5 }, { seq: "1" }, { filename: "a/b.jpg" }, { filename: "..jpg" }, { filename: "\u202egpj.exe" },
      { filename: "a".repeat(200) + ".jpg" }, { content_type: "image/jpeg\u0000" }, { size: -1 }, { size: 2 ** 60 }, { sha256: "zz" },
    ].map((x) => uploadUrlBody(1, x)),
    JSON.parse('{"__proto__": 1, "filename": "a.jpg", "content_type": "image/jpeg", "seq": 1}'),
    ...[{ filename: "\ud800.jpg" }, { content_type: "x".repeat(101) }].map((x) => uploadUrlBody(1, x)),
  ];
  it("upload-urls: each hostile item gets the single route's status and code, no 5xx, and writes nothing", async () => {
    const device = await activatedDevice();
    const h = deviceHeaders(device.token);
    const before = await tableChecksums();
    const r = await post("upload-urls", { items: hostile }, h);
    expect(r.status).toBe(200);
    const got = results(r);
    expect(got).toHaveLength(hostile.length);
    expect(await tableChecksums()).toEqual(before);
    for (const [i, item] of hostile.entries()) {
      const single = await post("upload-url", JSON.stringify(item), h); // as the batch carried it
      expect([got[i].status, codeOf(got[i])], JSON.stringify(item)).toEqual([single.status, (single.body as any).error?.code]);
      expect(got[i].status).toBeLessThan(500);
    }
  });

  it("ingest-batch: hostile items beside a good one; only the good one is written", async () => {
    const device = await activatedDevice();
    const h = deviceHeaders(device.token);
    const good = await uploadPhoto(device.token, 40, fakeJpeg(3000));
    const items = [...hostile.map((x) => (x && typeof x === "object" && !Array.isArray(x) && "filename" in x)
      ? { ...ingestBody(good.object_key, 40), ...(x as object), filename: undefined } : x),
      ingestBody("devices/../etc/passwd", 40), ingestBody(good.object_key, 41), ingestBody(good.object_key, 40, { captured_at: "1969-12-31T23:59:59Z" }),
      ingestBody(good.object_key, 40, { metadata: { big: "x".repeat(5000) } })];
    const before = await tableChecksums();
    const r = await post("ingest-batch", { items: [...items, ingestBody(good.object_key, 40)] }, h);
    expect(r.status).toBe(200);
    const got = results(r);
    expect(got.at(-1)!.status).toBe(201);
    expect(got.slice(0, -1).every((x) => x.status >= 400 && x.status < 500)).toBe(true);
    const after = await tableChecksums();
    // Only the good item's rows moved: one item, one job, its reservation marked ingested.
    for (const t of ["public.devices", "public.device_pairing_codes", "device_api.storage_deletions", "auth.users"]) {
      expect(after[t]).toEqual(before[t]);
    }
    expect(await deviceItemsAndJobs(device.deviceId)).toEqual({ items: 1, jobs: 1 });
  });
});

