import { describe, expect, it } from "vitest";
import { activatedDevice, deviceHeaders, deviceItemsAndJobs, fakeJpeg, ingestBody, post, sql, uploadPhoto } from "../support/stack.ts";

describe("ingest under concurrency", () => {
  it("30 identical ingests of one (device, seq) make one item and one job, and all see its id", async () => {
    const device = await activatedDevice();
    const target = await uploadPhoto(device.token, 7, fakeJpeg(4096));
    const results = await Promise.all(Array.from({ length: 30 }, () =>
      post("ingest", ingestBody(target.object_key, 7), deviceHeaders(device.token))));

    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(29);
    const ids = new Set(results.map((r) => r.body.item_id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.body.status === "queued")).toHaveLength(1);
    expect(results.filter((r) => r.body.status === "duplicate")).toHaveLength(29);

    expect(await deviceItemsAndJobs(device.deviceId)).toEqual({ items: 1, jobs: 1 });
  });

  it("asking for the same seq's upload URL again gives the same object key, concurrently too", async () => {
    const device = await activatedDevice();
    const asks = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      post("upload-url", { filename: `retry-${i}.jpg`, content_type: "image/jpeg", seq: 99 }, deviceHeaders(device.token))));
    expect(new Set(asks.map((a) => a.status))).toEqual(new Set([200]));
    expect(new Set(asks.map((a) => a.body.object_key)).size).toBe(1);
    const [{ n }] = await sql`select count(*)::int as n from public.device_upload_reservations where device_id = ${device.deviceId}`;
    expect(n).toBe(1);
  });
});
