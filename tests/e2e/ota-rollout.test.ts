// Updates over the air end to end: 20 simulated cameras (the firmware core's DeviceLoop, two slot
// files and a boot state each) on the local stack. A release at 50 % reaches exactly the devices
// of the server's rollout hash; each downloads it between captures, verifies, restarts on it and
// confirms; the others keep their version; every photo is ingested once. One camera is SIGKILLed
// at 10 byte offsets of its download and resumes each time. Then a release that crashes at boot
// rolls back on every camera by itself and halts itself, and one that never reaches the server
// rolls back once its confirmation deadline passes. Every wait is for an event or a row.
import { beforeAll, describe, expect, it } from "vitest";

import { generateReleaseKey } from "../../scripts/cli/firmware-signing.ts";
import { buildSimCamera } from "../../scripts/sim/sim-camera.ts";
import { listReleases, published, rolloutBucket } from "../support/ota.ts";
import { type Cam, EXIT_CRASH_AT_BOOT, newCam, run, seqsOf, simImage, stopAll, until, versions } from "../support/ota-cameras.ts";
import { newUser, pairDevice, sql } from "../support/stack.ts";
import { tempDir } from "../support/temp.ts";

const PHOTOS = 6;
const CAMERAS = 20;
const IMAGE_BYTES = 640 * 1024;
const CUTS = 10;

beforeAll(async () => {
  await buildSimCamera();
}, 300_000);

describe("updates over the air on 20 simulated cameras", () => {
  const key = generateReleaseKey();
  const cams: Cam[] = [];
  let userToken = "";
  let rolloutSet = new Set<string>();

  it("a release at 50 % reaches exactly the rollout hash's half; they download (one cut 10 times), verify, switch, confirm; photos flow", async () => {
    const user = await newUser();
    userToken = user.token;
    for (let i = 0; i < CAMERAS; i++) {
      const paired = await pairDevice(user.token, `ota-cam-${i}`);
      cams.push(newCam(paired.device_id, paired.pairing_code, await tempDir("lifelog-ota-")));
    }
    rolloutSet = new Set(cams.filter((c) => rolloutBucket(c.deviceId) < 50).map((c) => c.deviceId));
    expect(rolloutSet.size).toBeGreaterThanOrEqual(3); // about half of 20 (random ids)
    expect(rolloutSet.size).toBeLessThanOrEqual(17);

    // The camera that loses its power at 10 byte offsets of the download (each one later than the last).
    const cut = cams.find((c) => rolloutSet.has(c.deviceId))!;
    const offsets = Array.from({ length: CUTS }, (_, i) => Math.floor(((i + 0.2 + Math.random() * 0.6) * IMAGE_BYTES) / (CUTS + 1)));
    let cutsDone = 0;
    cut.onEvent = (e, c) => {
      if (e.event === "ota_progress" && cutsDone < CUTS && Number(e.bytes_done) >= offsets[cutsDone]) {
        cutsDone++;
        c.kill?.();
      }
    };

    const release = await published(user.token, "0.5.0", { key, rollout_percent: 50, image: simImage("0.5.0", "ok", IMAGE_BYTES) });
    for (const c of cams) run(c, key.publicKey, { photos: PHOTOS });

    const ids = cams.map((c) => c.deviceId);
    await until("confirmations and every photo", async () => {
      const [{ confirmed }] = await sql`select count(*)::int as confirmed from public.firmware_release_devices
        where release_id = ${release.release.id} and confirmed_at is not null`;
      const [{ items }] = await sql`select count(*)::int as items from public.source_items where device_id = any(${ids})`;
      return confirmed === rolloutSet.size && items === CAMERAS * PHOTOS;
    }, cams);
    // One more heartbeat round so every camera has reported its state since.
    await new Promise((r) => setTimeout(r, 1500));
    await stopAll(cams);

    const running = await versions(ids);
    for (const c of cams) {
      const updated = rolloutSet.has(c.deviceId);
      expect(running.get(c.deviceId)).toBe(updated ? "0.5.0" : "0.4.0");
      const all = c.boots.flat();
      expect(all.filter((e) => e.event === "reboot_for_update").length).toBe(updated ? 1 : 0);
      // photos: PHOTOS distinct seqs ingested, each one the camera logged as captured among them
      // (a SIGKILL may land between a photo's commit and its log line)
      const ingested = await seqsOf(c.deviceId);
      expect(new Set(ingested).size).toBe(PHOTOS);
      expect(ingested.length).toBe(PHOTOS);
      for (const e of all.filter((e) => e.event === "captured")) expect(ingested).toContain(Number(e.seq));
      if (updated) {
        const states = all.filter((e) => e.event === "ota").map((e) => e.state);
        expect(states).toEqual(expect.arrayContaining(["downloading", "downloaded", "pending_verify", "confirmed"]));
      }
    }
    const [view] = (await listReleases(user.token)).body.releases;
    expect(view.progress).toMatchObject({ offered: rolloutSet.size, confirmed: rolloutSet.size, rolled_back: 0, refused: 0 });

    // Resume: 10 cuts; after each, the download went on from where it was saved, never from zero.
    expect(cutsDone).toBe(CUTS);
    const downloadBoots = cut.boots.filter((b) => b.some((e) => e.event === "ota_progress"));
    expect(downloadBoots.length).toBe(CUTS + 1);
    const firstStart = downloadBoots.map((b) => {
      const first = b.find((e) => e.event === "ota_progress")!;
      return Number(first.bytes_done) - Number(first.bytes_fetched);
    });
    for (const start of firstStart.slice(1)) expect(start).toBeGreaterThan(0);
    const fetched = downloadBoots.reduce((n, b) => n + Number(b.filter((e) => e.event === "ota_progress").at(-1)!.bytes_fetched), 0);
    // each cut costs at most what was not yet saved (4 sectors) plus the step under way (16 KiB)
    expect(fetched).toBeGreaterThanOrEqual(IMAGE_BYTES);
    expect(fetched).toBeLessThanOrEqual(IMAGE_BYTES + CUTS * (16_384 + 16_384 + 4_096));
    console.log(`ota resume: ${CUTS} SIGKILLs, ${fetched} bytes fetched for a ${IMAGE_BYTES}-byte image; resumed at ${firstStart.slice(1).join(", ")}`);
  }, 240_000);

  it("a release that crashes at boot rolls back by itself on every camera and halts itself", async () => {
    expect(cams.length).toBe(CAMERAS);
    const before = await versions(cams.map((c) => c.deviceId));
    for (const c of cams) c.onEvent = undefined;
    const bad = await published(userToken, "0.6.0", { key, rollout_percent: 100, image: simImage("0.6.0", "crash", IMAGE_BYTES) });
    for (const c of cams) run(c, key.publicKey, { photos: PHOTOS });
    await until("the release to halt itself", async () => {
      const [r] = await sql`select halted, halted_reason from public.firmware_releases where id = ${bad.release.id}`;
      return r.halted === true;
    }, cams);
    await stopAll(cams);

    const [view] = (await listReleases(userToken)).body.releases.filter((r) => r.id === bad.release.id);
    expect(view).toMatchObject({ halted: true, halted_reason: "rollbacks" });
    // halts at the 20th attempt (OTA.autoHaltMinAttempts), every one of them a rollback
    expect(view.progress.rolled_back).toBe(CAMERAS);
    expect(view.progress.confirmed).toBe(0);
    const after = await versions(cams.map((c) => c.deviceId));
    expect(after).toEqual(before);
    const crashed = cams.filter((c) => c.exits.includes(EXIT_CRASH_AT_BOOT)).length;
    expect(crashed).toBe(CAMERAS);
    const errors = await sql`select distinct ota_error from public.device_status where device_id = any(${cams.map((c) => c.deviceId)})`;
    expect(errors.map((r) => r.ota_error)).toEqual(["reset_before_confirm"]);
  }, 240_000);
});

describe("a release that boots but never reaches the server", () => {
  const key = generateReleaseKey();
  const SILENT_CAMERAS = 3;

  it("rolls back by itself once its confirmation deadline passes, is counted, and every photo arrives once", async () => {
    const user = await newUser();
    const cams: Cam[] = [];
    for (let i = 0; i < SILENT_CAMERAS; i++) {
      const paired = await pairDevice(user.token, `ota-silent-${i}`);
      cams.push(newCam(paired.device_id, paired.pairing_code, await tempDir("lifelog-ota-silent-")));
    }
    const ids = cams.map((c) => c.deviceId);
    const silent = await published(user.token, "0.5.0", { key, rollout_percent: 100, image: simImage("0.5.0", "silent", IMAGE_BYTES) });
    for (const c of cams) run(c, key.publicKey, { photos: PHOTOS, confirmMs: 3_000 });
    await until("every camera back on 0.4.0 with the rollback reported, and every photo", async () => {
      const [{ rolled }] = await sql`select count(*)::int as rolled from public.firmware_release_devices
        where release_id = ${silent.release.id} and rolled_back_at is not null`;
      const reported = await sql`select 1 from public.device_status where device_id = any(${ids})
        and firmware_version = '0.4.0' and ota_error = 'no_heartbeat_on_new_image'`;
      const [{ items }] = await sql`select count(*)::int as items from public.source_items where device_id = any(${ids})`;
      return rolled === SILENT_CAMERAS && reported.length === SILENT_CAMERAS && items === SILENT_CAMERAS * PHOTOS;
    }, cams);
    await stopAll(cams);

    const [view] = (await listReleases(user.token)).body.releases.filter((r) => r.id === silent.release.id);
    expect(view.progress).toMatchObject({ offered: SILENT_CAMERAS, rolled_back: SILENT_CAMERAS, confirmed: 0 });
    expect(view.halted).toBe(false); // 3 attempts are below the auto-halt's minimum of 20
    for (const c of cams) {
      const all = c.boots.flat();
      expect(all.filter((e) => e.event === "reboot_for_update").length).toBe(1);
      expect(c.exits).not.toContain(EXIT_CRASH_AT_BOOT);
      const ingested = await seqsOf(c.deviceId);
      expect(ingested.length).toBe(PHOTOS);
      expect(new Set(ingested).size).toBe(PHOTOS);
    }
  }, 240_000);
});
