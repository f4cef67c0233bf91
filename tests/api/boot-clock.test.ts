// Photos sent before the camera's clock was set are dated by the server once a photo of the
// same boot arrives synced (migration 20261201003000_boot_clock_dating.sql).
import { describe, expect, it } from "vitest";
import { activatedDevice, deviceHeaders, fakeJpeg, ingestBody, post, sql, uploadPhoto } from "../support/stack.ts";

async function ingestPhoto(token: string, seq: number, captured_at: string, ntp_synced: boolean, metadata: Record<string, unknown>,
  headers: Record<string, string> = {}) {
  const target = await uploadPhoto(token, seq, fakeJpeg(2048, seq / 100));
  const r = await post("ingest", ingestBody(target.object_key, seq, { captured_at, ntp_synced, metadata }), { ...deviceHeaders(token), ...headers });
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

describe("dating a boot that never got NTP by the server's clock", () => {
  const bootHeaders = (boot: number, uptimeMs: number) => ({ "x-device-boot": String(boot), "x-device-uptime-ms": String(uptimeMs) });
  async function bootRow(deviceId: string, boot: number) {
    const [row] = await sql<{ started_at: Date; dated_by: string }[]>`
      select started_at, dated_by from public.device_boots where device_id = ${deviceId} and boot_id = ${boot}`;
    return row;
  }

  it("dates the boot from the first accepted request's uptime, and its photos with it, before and after", async () => {
    const { token, deviceId } = await activatedDevice();
    // The first request of boot 3 is an ingest of its own photo, taken 5 s after boot, sent at 65 s.
    const sentBefore = Date.now();
    const first = await ingestPhoto(token, 0, "1970-01-01T00:00:05Z", false, { boot_id: 3, uptime_ms: 5_000 }, bootHeaders(3, 65_000));
    const sentAfter = Date.now();
    const boot = await bootRow(deviceId, 3);
    expect(boot.dated_by).toBe("server_clock");
    // The server received the request between sentBefore and sentAfter: the boot began 65 s before that.
    expect(boot.started_at.getTime()).toBeGreaterThanOrEqual(sentBefore - 65_000 - 1);
    expect(boot.started_at.getTime()).toBeLessThanOrEqual(sentAfter - 65_000 + 1);
    const dated = await item(first);
    expect(dated.captured_at.getTime()).toBe(boot.started_at.getTime() + 5_000);
    expect(dated.ntp_synced).toBe(false);
    expect(dated.metadata.dated_by).toBe("server_clock");
    expect(Date.parse(String(dated.metadata.device_captured_at))).toBe(Date.parse("1970-01-01T00:00:05Z"));

    // A photo of boot 3 sent during boot 4 (after a reset) is dated from boot 3's row.
    const later = await ingestPhoto(token, 1, "1970-01-01T00:01:40Z", false, { boot_id: 3, uptime_ms: 100_000 }, bootHeaders(4, 2_000));
    expect((await item(later)).captured_at.getTime()).toBe(boot.started_at.getTime() + 100_000);
    expect((await item(later)).metadata.dated_by).toBe("server_clock");
    expect((await bootRow(deviceId, 4)).dated_by).toBe("server_clock");

    // An NTP-synced photo of boot 3 dates it better: the boot and its photos move to the camera's clock.
    await ingestPhoto(token, 2, "2026-12-01T10:03:00Z", true, { boot_id: 3, uptime_ms: 180_000 });
    const synced = await bootRow(deviceId, 3);
    expect([synced.dated_by, synced.started_at.toISOString()]).toEqual(["ntp", "2026-12-01T10:00:00.000Z"]);
    expect((await item(first)).captured_at.toISOString()).toBe("2026-12-01T10:00:05.000Z");
    expect((await item(first)).metadata.dated_by).toBe("boot_clock");
    expect((await item(later)).captured_at.toISOString()).toBe("2026-12-01T10:01:40.000Z");
    // and a second synced photo changes nothing more
    await ingestPhoto(token, 3, "2026-12-01T10:04:00Z", true, { boot_id: 3, uptime_ms: 240_500 });
    expect((await bootRow(deviceId, 3)).started_at.toISOString()).toBe("2026-12-01T10:00:00.000Z");
  });

  it("refuses a malformed boot clock with 400 invalid_boot_clock and records nothing", async () => {
    const { token, deviceId } = await activatedDevice();
    const body = { filename: "a.jpg", content_type: "image/jpeg", seq: 1 };
    for (const headers of <Record<string, string>[]>[{ "x-device-boot": "1" }, { "x-device-uptime-ms": "5" }, bootHeaders(0, 5), { ...bootHeaders(1, 5), "x-device-boot": "-1" },
      { ...bootHeaders(1, 5), "x-device-uptime-ms": "1.5" }, { ...bootHeaders(1, 5), "x-device-boot": "4294967296" },
      { ...bootHeaders(1, 5), "x-device-uptime-ms": "99999999999999999" }, { ...bootHeaders(1, 5), "x-device-boot": "0x10" }]) {
      const r = await post("upload-url", body, { ...deviceHeaders(token), ...headers });
      expect([r.status, (r.body as { error: { code: string } }).error.code], JSON.stringify(headers)).toEqual([400, "invalid_boot_clock"]);
    }
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from public.device_boots where device_id = ${deviceId}`;
    expect(n).toBe(0);
    const [{ r }] = await sql<{ r: number }[]>`select count(*)::int as r from public.device_upload_reservations where device_id = ${deviceId}`;
    expect(r).toBe(0);
  });
});
