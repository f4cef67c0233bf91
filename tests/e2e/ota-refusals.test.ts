// Refused updates end to end: one simulated camera per case on the local stack, each offered a
// release it must not take: its bytes changed in storage, its signature or SHA-256 changed in the
// row, signed with another key, older than the running version, below its minimum version, or
// larger than the slot. Each camera refuses before its boot state changes, keeps running 0.4.0,
// reports the reason in its heartbeat (stored, and shown in the owner's devices and releases
// APIs), and its photos keep flowing, each seq ingested once. Where the server refuses to create
// or to offer such a release, that is shown first; the camera's own check is then reached by
// writing to storage or the database directly, standing for a tampered storage or server.
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { generateReleaseKey, signImage } from "../../scripts/cli/firmware-signing.ts";
import { buildSimCamera } from "../../scripts/sim/sim-camera.ts";
import { listDevices } from "../support/lifecycle.ts";
import { changeRelease, listReleases, otaHeartbeat, publish, published, uploadImage, userHeaders } from "../support/ota.ts";
import { type Cam, newCam, run, seqsOf, simImage, stopAll, until } from "../support/ota-cameras.ts";
import { newUser, pairDevice, post, sql, stack } from "../support/stack.ts";
import { overwriteStoredObject } from "../support/stored-object.ts";
import { tempDir } from "../support/temp.ts";

const RUNNING = "0.4.0"; // sim-camera's own version
const IMAGE_BYTES = 64 * 1024;
const SLOT_BYTES = 0x330000; // the simulator's slot, as the board's default partition table
const PHOTOS_AFTER_REFUSAL = 2;

beforeAll(async () => {
  await buildSimCamera();
}, 300_000);

// A tampered server: for the devices in ota_tamper.offers, offer_update offers the listed release
// (with the listed size, if any) whatever its version and min_version; every other device gets
// the real function's answer. Restored afterwards.
async function tamperOffers() {
  const [{ def }] = await sql`select pg_get_functiondef('device_api.offer_update(public.devices,text)'::regprocedure) as def`;
  const original = def as string;
  expect(original).toContain("FUNCTION device_api.offer_update(");
  await sql.unsafe(`
    create schema ota_tamper;
    create table ota_tamper.offers (device_id uuid primary key, release_id uuid not null, size bigint);
    grant usage on schema ota_tamper to public;
    grant select on ota_tamper.offers to public;`);
  await sql.unsafe(original.replace("FUNCTION device_api.offer_update(", "FUNCTION ota_tamper.real_offer_update("));
  await sql.unsafe(`
    create or replace function device_api.offer_update(p_device public.devices, p_running_version text)
     returns public.firmware_releases language plpgsql as $fn$
    declare
      v_tamper ota_tamper.offers;
      v_release public.firmware_releases;
    begin
      select * into v_tamper from ota_tamper.offers where device_id = p_device.id;
      if v_tamper.device_id is null then
        return ota_tamper.real_offer_update(p_device, p_running_version);
      end if;
      if exists (select 1 from public.firmware_release_devices d
                  where d.release_id = v_tamper.release_id and d.device_id = p_device.id and d.refused_at is not null) then
        return null;
      end if;
      select * into v_release from public.firmware_releases where id = v_tamper.release_id;
      v_release.size := coalesce(v_tamper.size, v_release.size);
      insert into public.firmware_release_devices (release_id, device_id) values (v_release.id, p_device.id)
        on conflict (release_id, device_id) do nothing;
      return v_release;
    end $fn$`);
  return {
    offer: (deviceId: string, releaseId: string, size: number | null = null) =>
      sql`insert into ota_tamper.offers (device_id, release_id, size) values (${deviceId}, ${releaseId}, ${size})`,
    restore: async () => {
      await sql.unsafe(original);
      await sql.unsafe("drop schema ota_tamper cascade");
    },
  };
}

/** Raises a release created at 0 % (so no camera is offered it while it is being tampered with) to 100 %. */
async function rollOut(userToken: string, releaseId: string, version: string) {
  const raised = await changeRelease(userToken, "rollout", { release_id: releaseId, rollout_percent: 100 });
  expect(raised.status).toBe(200);
  return { releaseId, version };
}

/** A device of the same owner that no one tampers with: what the real server offers at 0.4.0. */
async function honestOffer(userToken: string) {
  const paired = await pairDevice(userToken, "honest-cam");
  const activated = await post<{ device_token: string }>("activate", { pairing_code: paired.pairing_code });
  expect(activated.status).toBe(201);
  const r = await otaHeartbeat(activated.body.device_token, { firmware_version: RUNNING });
  expect(r.status).toBe(200);
  return r.body.update;
}

const BOOT_FILES = ["boot.kv", "slot0.bin", "slot1.bin"] as const;
async function bootFiles(cam: Cam): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const name of BOOT_FILES) {
    out[name] = await readFile(join(cam.dir, name)).then((b) => createHash("sha256").update(b).digest("hex"), () => null);
  }
  return out;
}

interface Case {
  name: string;
  reason: string;
  /** also downloads (into the inactive slot) before it refuses */
  downloads?: boolean;
  /** shows what the server refuses, then makes the release the camera is offered */
  offer: (userToken: string, cam: Cam) => Promise<{ releaseId: string; version: string }>;
}

describe("a camera refuses a bad update before its boot state changes, and reports why", () => {
  const key = generateReleaseKey();
  let tamper: Awaited<ReturnType<typeof tamperOffers>> | undefined;
  const cams: Cam[] = [];

  afterAll(async () => {
    await stopAll(cams); // also after a failure, so no camera outlives the test
    await tamper?.restore();
  });

  const cases: Case[] = [
    {
      name: "bytes changed in storage", reason: "sha256_mismatch", downloads: true,
      offer: async (userToken) => {
        const image = simImage("0.5.0", "ok", IMAGE_BYTES);
        const signed = signImage(key, "0.5.0", image);
        const target = await uploadImage(userToken, image, signed.sha256);
        const other = simImage("0.5.0", "ok", IMAGE_BYTES);
        await overwriteStoredObject(stack.storage, target.object_key, other);
        const refused = await post("releases", { ...signed, rollout_percent: 100 }, userHeaders(userToken));
        expect(refused).toMatchObject({ status: 422, body: { error: { code: "image_mismatch" } } });
        // The right bytes for the release to be created, then the tampered storage changes them.
        await overwriteStoredObject(stack.storage, target.object_key, image);
        const r = await published(userToken, "0.5.0", { key, image, rollout_percent: 0 });
        await overwriteStoredObject(stack.storage, target.object_key, other);
        return rollOut(userToken, r.release.id, "0.5.0");
      },
    },
    {
      name: "signature changed", reason: "bad_signature",
      offer: async (userToken) => {
        const image = simImage("0.5.0", "ok", IMAGE_BYTES);
        // well-formed, but over another version
        const r = await publish(userToken, "0.5.0", { key, image }, { signature: signImage(key, "0.5.1", image).signature });
        expect(r).toMatchObject({ status: 400, body: { error: { code: "bad_signature" } } });
        const ok = await published(userToken, "0.5.0", { key, image: r.image, rollout_percent: 0 });
        // A tampered database: the row's signature no longer matches.
        await sql`update public.firmware_releases set signature = ${flipHex(ok.signed.signature)} where id = ${ok.release.id}`;
        return rollOut(userToken, ok.release.id, "0.5.0");
      },
    },
    {
      name: "SHA-256 changed", reason: "bad_signature",
      offer: async (userToken) => {
        const r = await publish(userToken, "0.5.0", { key, image: simImage("0.5.0", "ok", IMAGE_BYTES) },
          { sha256: randomBytes(32).toString("hex") });
        expect(r).toMatchObject({ status: 400, body: { error: { code: "bad_signature" } } });
        const ok = await published(userToken, "0.5.0", { key, image: r.image, rollout_percent: 0 });
        await sql`update public.firmware_releases set sha256 = ${randomBytes(32).toString("hex")} where id = ${ok.release.id}`;
        return rollOut(userToken, ok.release.id, "0.5.0");
      },
    },
    {
      // The server cannot know which keys a camera trusts: it creates and offers this one.
      name: "signed with another key", reason: "unknown_key",
      offer: async (userToken) => {
        const r = await published(userToken, "0.5.0", { key: generateReleaseKey(), image: simImage("0.5.0", "ok", IMAGE_BYTES) });
        return { releaseId: r.release.id, version: "0.5.0" };
      },
    },
    {
      name: "older than the running version", reason: "not_newer",
      offer: async (userToken, cam) => {
        const r = await published(userToken, "0.3.0", { key, image: simImage("0.3.0", "ok", IMAGE_BYTES) });
        expect(await honestOffer(userToken)).toBeUndefined();
        await tamper!.offer(cam.deviceId, r.release.id);
        return { releaseId: r.release.id, version: "0.3.0" };
      },
    },
    {
      name: "below its minimum version", reason: "below_min_version",
      offer: async (userToken, cam) => {
        const r = await published(userToken, "0.5.0", { key, min_version: "0.4.5", image: simImage("0.5.0", "ok", IMAGE_BYTES) });
        expect(await honestOffer(userToken)).toBeUndefined();
        await tamper!.offer(cam.deviceId, r.release.id);
        return { releaseId: r.release.id, version: "0.5.0" };
      },
    },
    {
      name: "larger than the slot", reason: "too_large",
      offer: async (userToken, cam) => {
        const image = simImage("0.5.0", "ok", IMAGE_BYTES);
        const big = await post("releases", { ...signImage(key, "0.5.0", image), size: SLOT_BYTES + 1, rollout_percent: 100 },
          userHeaders(userToken));
        expect(big).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
        const upload = await post("release-upload-url", { size: SLOT_BYTES + 1, sha256: "0".repeat(64) }, userHeaders(userToken));
        expect(upload).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
        // The row cannot hold such a size (a constraint): the tampered server offers a bigger one.
        // At 0 % the honest server never offers the (valid) release itself.
        const r = await published(userToken, "0.5.0", { key, image, rollout_percent: 0 });
        await tamper!.offer(cam.deviceId, r.release.id, SLOT_BYTES + 1);
        return { releaseId: r.release.id, version: "0.5.0" };
      },
    },
  ];

  it("each of 7 bad releases is refused with its reason; the camera stays on 0.4.0 and keeps its photos flowing", async () => {
    tamper = await tamperOffers();
    const owners: string[] = [];
    for (const c of cases) {
      const user = await newUser();
      const paired = await pairDevice(user.token, c.name);
      owners.push(user.token);
      cams.push(newCam(paired.device_id, paired.pairing_code, await tempDir("lifelog-ota-refuse-")));
    }
    for (const cam of cams) run(cam, key.publicKey, { photos: 500 });
    const ids = cams.map((c) => c.deviceId);

    // Before any release: every camera runs 0.4.0 and has reported it; its boot files as they are.
    await until("every camera's first heartbeat", async () => {
      const [{ n }] = await sql`select count(*)::int as n from public.device_status where device_id = any(${ids}) and firmware_version = ${RUNNING}`;
      return n === cams.length;
    }, cams);
    const bootBefore = await Promise.all(cams.map(bootFiles));

    const offered: Array<{ releaseId: string; version: string }> = [];
    for (const [i, c] of cases.entries()) offered.push(await c.offer(owners[i], cams[i]));

    // Refused (the server stored it from the heartbeat), and photos captured after the refusal
    // are ingested: all of them up to PHOTOS_AFTER_REFUSAL after it.
    const flowedUpTo = new Map<Cam, number>(); // the last seq of the ingested prefix
    await until("every refusal and photos after it", async () => {
      for (const [i, cam] of cams.entries()) {
        if (cam.boots.flat().some((e) => e.event === "reboot_for_update")) throw new Error(`${cases[i].name}: the camera took the update`);
        const [row] = await sql`select d.refused_at, s.ota_state, s.ota_error from public.firmware_release_devices d
          join public.device_status s on s.device_id = d.device_id
          where d.release_id = ${offered[i].releaseId} and d.device_id = ${cam.deviceId}`;
        if (!row?.refused_at || row.ota_state !== "refused") return false;
        const events = cam.boots.flat();
        const refusal = events.findIndex((e) => e.event === "ota" && e.state === "refused");
        if (refusal < 0) return false;
        const after = events.slice(refusal).filter((e) => e.event === "captured").map((e) => Number(e.seq));
        if (after.length < PHOTOS_AFTER_REFUSAL) return false;
        const upTo = after[PHOTOS_AFTER_REFUSAL - 1];
        const wanted = events.filter((e) => e.event === "captured").map((e) => Number(e.seq)).filter((s) => s <= upTo);
        const ingested = new Set(await seqsOf(cam.deviceId));
        if (!wanted.every((s) => ingested.has(s))) return false;
        flowedUpTo.set(cam, upTo);
      }
      return true;
    }, cams);
    await stopAll(cams);

    for (const [i, cam] of cams.entries()) {
      const c = cases[i];
      const label = `${c.name} (${c.reason})`;
      const events = cam.boots.flat();
      // The camera's own log: one refusal with the reason, no restart, only 0.4.0 on slot 0 booted.
      const refusals = events.filter((e) => e.event === "ota" && e.state === "refused");
      expect(refusals.map((e) => e.error), label).toEqual([c.reason]);
      expect(events.some((e) => e.event === "reboot_for_update"), label).toBe(false);
      expect(events.filter((e) => e.event === "ota_boot").map((e) => [e.slot, e.version]), label).toEqual([[0, RUNNING]]);
      expect(cam.exits, label).toEqual([null]); // only the test's SIGKILL ended it
      const downloaded = events.some((e) => e.event === "ota_progress");
      expect(downloaded, label).toBe(c.downloads === true);

      // The boot state never changed; the inactive slot holds bytes only where the download ran.
      const bootAfter = await bootFiles(cam);
      expect(bootAfter["boot.kv"], label).toBe(bootBefore[i]["boot.kv"]);
      expect(bootAfter["slot0.bin"], label).toBe(bootBefore[i]["slot0.bin"]);
      if (!c.downloads) expect(bootAfter["slot1.bin"], label).toBe(bootBefore[i]["slot1.bin"]);

      // The server: the heartbeat's report stored, the step recorded against the release.
      const [status] = await sql`select firmware_version, ota_state, ota_version, ota_error from public.device_status where device_id = ${cam.deviceId}`;
      expect(status, label).toEqual({ firmware_version: RUNNING, ota_state: "refused", ota_version: offered[i].version, ota_error: c.reason });
      const [step] = await sql`select refused_at, attempted_at, last_error from public.firmware_release_devices
        where release_id = ${offered[i].releaseId} and device_id = ${cam.deviceId}`;
      expect(step.refused_at, label).not.toBeNull();
      expect(step.attempted_at, label).toBeNull();
      expect(step.last_error, label).toBe(c.reason);

      // The owner's APIs.
      const devices = (await listDevices(owners[i])).body.devices;
      const device = devices.find((d) => d.id === cam.deviceId)!;
      expect(device.firmware_version, label).toBe(RUNNING);
      expect(device.status?.ota, label).toEqual({ state: "refused", version: offered[i].version, error: c.reason });
      const views = (await listReleases(owners[i])).body.releases;
      expect(views.length, label).toBe(1);
      expect(views[0].progress, label).toMatchObject({ offered: 1, refused: 1, installed: 0, confirmed: 0, rolled_back: 0 });

      // Photos: each seq once, and every one captured up to two after the refusal is on the server.
      const ingested = await seqsOf(cam.deviceId);
      expect(new Set(ingested).size, label).toBe(ingested.length);
      const captured = events.filter((e) => e.event === "captured").map((e) => Number(e.seq));
      const upTo = flowedUpTo.get(cam)!;
      const wanted = captured.filter((s) => s <= upTo);
      expect(wanted.length, label).toBeGreaterThanOrEqual(PHOTOS_AFTER_REFUSAL);
      expect(ingested.filter((s) => s <= upTo), label).toEqual(wanted);
    }
  }, 240_000);
});

/** The same hex with its first byte changed (still well-formed). */
function flipHex(hex: string): string {
  return ((parseInt(hex.slice(0, 2), 16) ^ 0xff).toString(16).padStart(2, "0")) + hex.slice(2);
}
