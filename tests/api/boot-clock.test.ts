// Photos sent before the camera's clock was set are dated by the server once a photo of the
// same boot arrives synced (migration 20261201003000_boot_clock_dating.sql).
import { describe, expect, it } from "vitest";
import { activatedDevice, deviceHeaders, fakeJpeg, ingestBody, post, sql, uploadPhoto } from "../support/stack.ts";

async function ingestPhoto(token: string, seq: number, captured_at: string, ntp_synced: boolean, metadata: Record<string, unknown>) {
  const target = await uploadPhoto(token, seq, fakeJpeg(2048, seq / 100));
  const r = await post("ingest", ingestBody(target.object_key, seq, { captured_at, ntp_synced, metadata }), deviceHeaders(token));
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.item_id as string;
}

async function item(id: string) {
  const [row] = await sql<{ captured_at: Date; ntp_synced: boolean; metadata: Record<string, unknown> }[]>`
    select captured_at, ntp_synced, metadata from public.source_items where id = ${id}`;
  return row;
}

describe("dating unsynced photos by their boot's clock", () => {
  it("dates the same boot's photos, sent before and after the first synced one, and no other boot's", async () => {
    const { token } = await activatedDevice();
    // Boot 7 starts at 10:00:00 UTC (unknown to the camera until its clock is set).
    const early = await ingestPhoto(token, 0, "1970-01-01T00:00:05Z", false, { boot_id: 7, uptime_ms: 5_000 });
    const otherBoot = await ingestPhoto(token, 1, "1970-01-01T00:00:09Z", false, { boot_id: 6, uptime_ms: 9_000 });
    expect((await item(early)).captured_at.toISOString()).toBe("1970-01-01T00:00:05.000Z");

    await ingestPhoto(token, 2, "2026-12-01T10:01:00Z", true, { boot_id: 7, uptime_ms: 60_000 });
    const fixed = await item(early);
    expect(fixed.captured_at.toISOString()).toBe("2026-12-01T10:00:05.000Z");
    expect(fixed.ntp_synced).toBe(false); // the camera did not know it; the server dated it
    expect(fixed.metadata.dated_by).toBe("boot_clock");
    expect(Date.parse(String(fixed.metadata.device_captured_at))).toBe(Date.parse("1970-01-01T00:00:05Z"));

    const late = await ingestPhoto(token, 3, "1970-01-01T00:02:30Z", false, { boot_id: 7, uptime_ms: 150_500 });
    expect((await item(late)).captured_at.toISOString()).toBe("2026-12-01T10:02:30.500Z");
    expect((await item(otherBoot)).captured_at.toISOString()).toBe("1970-01-01T00:00:09.000Z");
  });

  it("ignores boot clocks that are not plain non-negative integers, and never fails the ingest", async () => {
    const { token } = await activatedDevice();
    await ingestPhoto(token, 0, "2026-12-01T10:00:00Z", true, { boot_id: 1, uptime_ms: 0 });
    const odd = [{ boot_id: 1, uptime_ms: -5 }, { boot_id: 1, uptime_ms: 1.5 }, { boot_id: 1, uptime_ms: "1000" },
      { boot_id: 1, uptime_ms: 1e300 }, { boot_id: "1", uptime_ms: 1000 }, { boot_id: 2 ** 70, uptime_ms: 1000 }];
    for (const [i, metadata] of odd.entries()) {
      const id = await ingestPhoto(token, i + 1, "1970-01-01T00:00:01Z", false, metadata);
      expect((await item(id)).captured_at.toISOString(), JSON.stringify(metadata)).toBe("1970-01-01T00:00:01.000Z");
    }
  });
});
