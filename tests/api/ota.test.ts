// Firmware releases: a staged rollout by a stable hash of the device id, offers in the
// heartbeat answer with a working signed download URL, progress from the cameras'
// reports, halt (by the owner, and by itself on rollbacks), another owner's releases out
// of reach, and hostile input refused with nothing changed.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateReleaseKey, signImage } from "../../scripts/cli/firmware-signing.ts";
import { lifecycleSnapshot } from "../support/lifecycle.ts";
import {
  changeRelease, fakeImage, fleet, listReleases, otaHeartbeat, otaSnapshot, publish, published, rolloutBucket, uploadImage, userHeaders,
} from "../support/ota.ts";
import { activatedDevice, post, sql } from "../support/stack.ts";

async function offeredSet(devices: { deviceId: string; token: string }[], fields: Record<string, unknown> = {}) {
  const answers = await Promise.all(devices.map(async (d) => ({ d, r: await otaHeartbeat(d.token, fields) })));
  for (const { r } of answers) expect(r.status, JSON.stringify(r.body)).toBe(200);
  return new Set(answers.filter(({ r }) => r.body.update).map(({ d }) => d.deviceId));
}

describe("staged rollout", () => {
  it("50 % reaches the devices whose hash is below 50, every time; raising it only adds devices", async () => {
    const { user, devices } = await fleet(20);
    const { release, image, signed } = await published(user.token, "0.4.0", { rollout_percent: 50 });
    expect(release).toMatchObject({ version: "0.4.0", rollout_percent: 50, halted: false, size: image.length });

    const expected = new Set(devices.filter((d) => rolloutBucket(d.deviceId) < 50).map((d) => d.deviceId));
    const first = await offeredSet(devices);
    expect(first).toEqual(expected);
    // about half of 20 (the ids are random; this bound fails about once in 2 000 runs)
    expect(first.size).toBeGreaterThanOrEqual(3);
    expect(first.size).toBeLessThanOrEqual(17);
    expect(await offeredSet(devices)).toEqual(first);

    // The offer carries what the camera checks, and a URL that serves the image (ranges too).
    const one = devices.find((d) => first.has(d.deviceId))!;
    const offer = (await otaHeartbeat(one.token)).body.update!;
    expect(offer).toMatchObject({ version: "0.4.0", size: image.length, sha256: signed.sha256, signature: signed.signature, key_id: signed.key_id });
    const whole = await fetch(offer.url);
    expect(whole.status).toBe(200);
    expect(createHash("sha256").update(new Uint8Array(await whole.arrayBuffer())).digest("hex")).toBe(signed.sha256);
    const tail = await fetch(offer.url, { headers: { range: `bytes=${image.length - 100}-` } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(Buffer.from(image.subarray(image.length - 100)));

    const raised = await changeRelease(user.token, "rollout", { release_id: release.id, rollout_percent: 80 });
    expect(raised.status).toBe(200);
    const after = await offeredSet(devices);
    for (const id of first) expect(after.has(id)).toBe(true);
    expect(after).toEqual(new Set(devices.filter((d) => rolloutBucket(d.deviceId) < 80).map((d) => d.deviceId)));
    expect((await listReleases(user.token)).body.releases[0].progress.offered).toBe(after.size);
  });

  it("offers only a newer version, from the minimum version on, and the newest due release", async () => {
    const { user, devices: [cam] } = await fleet(1);
    const key = generateReleaseKey();
    await published(user.token, "0.5.0", { key, min_version: "0.3.0" });
    await published(user.token, "0.6.0", { key, min_version: "0.4.0" });
    expect((await otaHeartbeat(cam.token, { firmware_version: "0.3.0" })).body.update?.version).toBe("0.5.0");
    expect((await otaHeartbeat(cam.token, { firmware_version: "0.4.2" })).body.update?.version).toBe("0.6.0");
    expect((await otaHeartbeat(cam.token, { firmware_version: "0.2.9" })).body.update).toBeUndefined();
    expect((await otaHeartbeat(cam.token, { firmware_version: "0.6.0" })).body.update).toBeUndefined();
    expect((await otaHeartbeat(cam.token, { firmware_version: "0.7.0" })).body.update).toBeUndefined();
    // a development build's version is not comparable: no offer
    expect((await otaHeartbeat(cam.token, { firmware_version: "0.3.0-dirty" })).body.update).toBeUndefined();
  });
});

describe("progress and halting", () => {
  it("counts each device's furthest step once; a device that rolled back or refused is not offered it again", async () => {
    const { user, devices: [a, b, c] } = await fleet(3);
    const { release } = await published(user.token, "1.0.0");
    for (const d of [a, b, c]) expect((await otaHeartbeat(d.token)).body.update?.version).toBe("1.0.0");
    await otaHeartbeat(a.token, { ota_state: "downloading", ota_version: "1.0.0" });
    await otaHeartbeat(a.token, { ota_state: "downloaded", ota_version: "1.0.0" });
    await otaHeartbeat(a.token, { firmware_version: "1.0.0", ota_state: "pending_verify", ota_version: "1.0.0" });
    for (let i = 0; i < 2; i++) await otaHeartbeat(a.token, { firmware_version: "1.0.0", ota_state: "confirmed", ota_version: "1.0.0" });
    const back = await otaHeartbeat(b.token, { ota_state: "rolled_back", ota_version: "1.0.0", ota_error: "no_heartbeat_on_new_image" });
    expect(back.body.update).toBeUndefined();
    const refused = await otaHeartbeat(c.token, { ota_state: "refused", ota_version: "1.0.0", ota_error: "bad_signature" });
    expect(refused.body.update).toBeUndefined();
    const [view] = (await listReleases(user.token)).body.releases;
    expect(view.progress).toEqual({ offered: 3, downloaded: 2, installed: 2, confirmed: 1, rolled_back: 1, refused: 1 });
    const [status] = await sql`select ota_state, ota_version, ota_error from public.device_status where device_id = ${c.deviceId}`;
    expect(status).toEqual({ ota_state: "refused", ota_version: "1.0.0", ota_error: "bad_signature" });
    expect(view.id).toBe(release.id);
  });

  it("a report about a release the device was never offered counts for nothing", async () => {
    const { user, devices: [cam] } = await fleet(1);
    await published(user.token, "1.2.0", { rollout_percent: 0 });
    const before = await otaSnapshot();
    for (const state of ["downloaded", "pending_verify", "rolled_back"]) {
      expect((await otaHeartbeat(cam.token, { ota_state: state, ota_version: "1.2.0" })).status).toBe(200);
    }
    expect(await otaSnapshot()).toEqual(before);
    expect((await listReleases(user.token)).body.releases[0].progress.offered).toBe(0);
  });

  it("a halted release is offered to no one until resumed", async () => {
    const { user, devices } = await fleet(3);
    const { release } = await published(user.token, "2.0.0");
    expect((await offeredSet(devices)).size).toBe(3);
    const halted = await changeRelease(user.token, "halt", { release_id: release.id });
    expect(halted.body.release).toMatchObject({ halted: true, halted_reason: "owner" });
    expect((await offeredSet(devices)).size).toBe(0);
    expect((await changeRelease(user.token, "resume", { release_id: release.id })).body.release).toMatchObject({ halted: false, halted_reason: null });
    expect((await offeredSet(devices)).size).toBe(3);
  });

  it("halts itself once rollbacks pass 5 % of at least 20 attempts", async () => {
    const { user, devices } = await fleet(20);
    const { release } = await published(user.token, "3.0.0");
    expect((await offeredSet(devices)).size).toBe(20);
    const report = (d: { token: string }, state: string) =>
      otaHeartbeat(d.token, { firmware_version: state === "rolled_back" ? "0.3.0" : "3.0.0", ota_state: state, ota_version: "3.0.0" });
    // 17 booted fine, 2 rolled back: 19 attempts, too few to judge
    for (const d of devices.slice(0, 17)) await report(d, "pending_verify");
    for (const d of devices.slice(17, 19)) await report(d, "rolled_back");
    expect((await listReleases(user.token)).body.releases[0]).toMatchObject({ halted: false });
    // a repeated report is the same attempt
    await report(devices[17], "rolled_back");
    expect((await listReleases(user.token)).body.releases[0]).toMatchObject({ halted: false });
    // the 20th attempt rolls back: 3 of 20 = 15 % > 5 %
    await report(devices[19], "rolled_back");
    const [view] = (await listReleases(user.token)).body.releases;
    expect(view).toMatchObject({ halted: true, halted_reason: "rollbacks" });
    expect(view.progress).toMatchObject({ installed: 20, rolled_back: 3 });
    // nobody is offered it any more, not even a device that never reported
    expect((await otaHeartbeat(devices[0].token, { firmware_version: "0.3.0" })).body.update).toBeUndefined();
    // resumed, it counts afresh: the old rollbacks do not halt it again at once
    await changeRelease(user.token, "resume", { release_id: release.id });
    await report(devices[18], "rolled_back");
    expect((await listReleases(user.token)).body.releases[0]).toMatchObject({ halted: false });
  });
});

describe("another owner", () => {
  it("cannot see, halt, resume or change a release, and their devices are never offered it nor counted in it", async () => {
    const owner = await fleet(1);
    const { release } = await published(owner.user.token, "4.0.0");
    const other = await activatedDevice();
    expect((await listReleases(other.user.token)).body.releases).toEqual([]);
    const before = await otaSnapshot();
    for (const [action, body] of [["halt", {}], ["resume", {}], ["rollout", { rollout_percent: 0 }]] as const) {
      const r = await changeRelease(other.user.token, action, { release_id: release.id, ...body });
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ error: { code: "release_not_found" } });
    }
    expect((await otaHeartbeat(other.token)).body.update).toBeUndefined();
    await otaHeartbeat(other.token, { firmware_version: "4.0.0", ota_state: "rolled_back", ota_version: "4.0.0" });
    expect(await otaSnapshot()).toEqual(before);
    // the database's own policies agree: as the other user, the rows are not there
    const rows = await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: other.user.id, role: "authenticated" })}, true)`;
      await tx`set local role authenticated`;
      return tx`select id from public.firmware_releases`;
    });
    expect(rows).toEqual([]);
    const mine = await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: owner.user.id, role: "authenticated" })}, true)`;
      await tx`set local role authenticated`;
      return tx`select id from public.firmware_releases`;
    });
    expect(mine.map((r) => r.id)).toEqual([release.id]);
  });

  it("an image uploaded by another user cannot be released under one's own account", async () => {
    const a = await activatedDevice();
    const b = await activatedDevice();
    const key = generateReleaseKey();
    const image = fakeImage();
    const signed = signImage(key, "1.0.0", image);
    await uploadImage(a.user.token, image, signed.sha256);
    const r = await post("releases", { ...signed, rollout_percent: 100 }, userHeaders(b.user.token));
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ error: { code: "image_not_uploaded" } });
  });
});

describe("hostile input", () => {
  it.each<[string, (s: ReturnType<typeof signImage>) => Record<string, unknown>, number, string]>([
    ["a signature by another key", (s) => ({ signature: signImage(generateReleaseKey(), s.version, new Uint8Array(s.size)).signature }), 400, "bad_signature"],
    ["a signature over another version", (s) => ({ version: "9.9.9", signature: s.signature }), 400, "bad_signature"],
    ["a key id that is not the key's", (s) => ({ key_id: "0".repeat(16) === s.key_id ? "1".repeat(16) : "0".repeat(16) }), 400, "key_mismatch"],
    ["a size larger than a slot", () => ({ size: 0x330001 }), 400, "invalid_request"],
    ["a version that is not x.y.z", () => ({ version: "1.0" }), 400, "invalid_request"],
    ["rollout above 100", () => ({ rollout_percent: 101 }), 400, "invalid_request"],
    ["fractional rollout", () => ({ rollout_percent: 12.5 }), 400, "invalid_request"],
    ["an upper-case channel with a slash", () => ({ channel: "Beta/../x" }), 400, "invalid_request"],
    ["an unknown field", () => ({ object_key: "firmware/other/evil.bin" }), 400, "invalid_request"],
    ["min_version newer than the release", () => ({ min_version: "5.0.0" }), 400, "invalid_request"],
  ])("create release with %s → %i %s, nothing stored", async (_, change, status, code) => {
    const { user } = await fleet(0);
    const key = generateReleaseKey();
    const image = fakeImage(4096);
    const signed = signImage(key, "1.0.0", image);
    await uploadImage(user.token, image, signed.sha256);
    const before = await otaSnapshot();
    const r = await post("releases", { ...signed, rollout_percent: 50, ...change(signed) }, userHeaders(user.token));
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body).toMatchObject({ error: { code } });
    expect(await otaSnapshot()).toEqual(before);
  });

  it("an image whose bytes differ from the signed sha256 is refused", async () => {
    const { user } = await fleet(0);
    const key = generateReleaseKey();
    const image = fakeImage(4096);
    const signed = signImage(key, "1.0.0", image);
    // the upload URL is signed for this sha256: storage itself refuses other bytes
    const target = await post<{ upload: { url: string; headers: Record<string, string> } }>(
      "release-upload-url", { size: image.length, sha256: signed.sha256 }, userHeaders(user.token));
    const tampered = new Uint8Array(image);
    tampered[100] ^= 1;
    const put = await fetch(target.body.upload.url, { method: "PUT", headers: target.body.upload.headers, body: tampered });
    await put.body?.cancel();
    expect(put.status).not.toBe(200);
    const r = await post("releases", { ...signed, rollout_percent: 50 }, userHeaders(user.token));
    expect(r.body).toMatchObject({ error: { code: "image_not_uploaded" } });
  });

  it("a second release of the same version on a channel is 409, the first unchanged", async () => {
    const { user } = await fleet(0);
    await published(user.token, "1.1.0");
    const before = await otaSnapshot();
    const again = await publish(user.token, "1.1.0");
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: "release_exists" } });
    expect(await otaSnapshot()).toEqual(before);
  });

  it.each<[string, Record<string, unknown>]>([
    ["an unknown OTA state", { ota_state: "exploded", ota_version: "1.0.0" }],
    ["a free-text OTA error", { ota_state: "refused", ota_version: "1.0.0", ota_error: "Bad <b>signature</b>" }],
    ["an OTA error too long", { ota_state: "refused", ota_version: "1.0.0", ota_error: "x".repeat(49) }],
    ["an OTA version that is a path", { ota_state: "refused", ota_version: "../../1.0.0" }],
    ["an OTA state as a number", { ota_state: 3, ota_version: "1.0.0" }],
  ])("heartbeat with %s → 400, nothing changes", async (_, change) => {
    const { user, devices: [cam] } = await fleet(1);
    await published(user.token, "1.0.0");
    expect((await otaHeartbeat(cam.token)).status).toBe(200);
    const before = { device: await lifecycleSnapshot(cam.deviceId), ota: await otaSnapshot() };
    const r = await otaHeartbeat(cam.token, change);
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body).toMatchObject({ error: { code: "invalid_request" } });
    expect({ device: await lifecycleSnapshot(cam.deviceId), ota: await otaSnapshot() }).toEqual(before);
  });

  it.each<[string, string, unknown]>([
    ["halt", "release-halt", { release_id: "not-a-uuid" }],
    ["rollout", "release-rollout", { release_id: "00000000-0000-4000-8000-000000000000", rollout_percent: -1 }],
    ["upload", "release-upload-url", { size: 0x330001, sha256: "a".repeat(64) }],
    ["upload", "release-upload-url", { size: 10, sha256: "../../etc/passwd" }],
  ])("%s with bad fields → 400", async (_, route, body) => {
    const { user } = await fleet(0);
    const before = await otaSnapshot();
    const r = await post(route, body, userHeaders(user.token));
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(await otaSnapshot()).toEqual(before);
  });

  it("the release routes need a signed-in user", async () => {
    for (const route of ["releases", "release-halt", "release-upload-url"]) {
      expect((await post(route, {})).status).toBe(401);
    }
    expect((await listReleases("not-a-jwt")).status).toBe(401);
  });
});
