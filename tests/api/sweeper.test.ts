// The sweeper against the local object store: never-ingested uploads go (reservation and
// object) once their URL has expired and they are older than the TTL or their device is
// revoked; ingested photos, young reservations and live URLs stay.
import { describe, expect, it } from "vitest";
import { sweepUploads } from "../../functions/_shared/storage/sweep.ts";
import { stackStorage } from "../support/checksums.ts";
import {
  activatedDevice, deviceHeaders, fakeJpeg, getObject, ingestBody, post, sql, type UploadTargetBody, uploadPhoto,
} from "../support/stack.ts";

const TTL = 24 * 60 * 60;
const reservations = (deviceId: string) =>
  sql<{ seq: string }[]>`select seq from public.device_upload_reservations where device_id = ${deviceId} order by seq`
    .then((rows) => rows.map((r) => Number(r.seq)));
/** As if the device's reservations had been made two days ago and their URLs had run out. */
const age = (deviceId: string) =>
  sql`update public.device_upload_reservations set created_at = now() - interval '2 days',
        signed_until = now() - interval '1 second' where device_id = ${deviceId}`;

describe("sweeper", () => {
  it("removes orphaned objects and reservations, and leaves ingested ones", async () => {
    const device = await activatedDevice();
    const kept = await uploadPhoto(device.token, 1, fakeJpeg());
    expect((await post("ingest", ingestBody(kept.object_key, 1), deviceHeaders(device.token))).status).toBe(201);
    const orphan = await uploadPhoto(device.token, 2, fakeJpeg());
    const neverPut = await post<UploadTargetBody>("upload-url", { filename: "n.jpg", content_type: "image/jpeg", seq: 3 },
      deviceHeaders(device.token));
    await age(device.deviceId);
    const young = await uploadPhoto(device.token, 4, fakeJpeg()); // made now: stays

    const { deleted } = await sweepUploads(sql, stackStorage(), { ttlSeconds: TTL });
    expect(deleted).toBeGreaterThanOrEqual(2);
    expect(await getObject(orphan.object_key)).toBeNull();
    expect(await getObject(kept.object_key)).not.toBeNull();
    expect(await getObject(young.object_key)).not.toBeNull();
    expect(await reservations(device.deviceId)).toEqual([1, 4]);
    // Keys retired for refused bytes (other tests') wait for their upload URLs to expire.
    const [{ queued }] = await sql`select count(*)::int as queued from device_api.storage_deletions
                                    where not_before is null or not_before < now()`;
    expect(queued).toBe(0);
    void neverPut;

    // The swept seq can be uploaded again, under a new key, and ingested.
    const again = await uploadPhoto(device.token, 2, fakeJpeg());
    expect(again.object_key).not.toBe(orphan.object_key);
    expect((await post("ingest", ingestBody(again.object_key, 2), deviceHeaders(device.token))).status).toBe(201);
    // and an ingest of the swept key is refused
    const stale = await post("ingest", ingestBody(orphan.object_key, 2), deviceHeaders(device.token));
    expect(stale.status).toBe(403);
  });

  it("takes a revoked device's uploads as soon as their URLs have run out, not before", async () => {
    const device = await activatedDevice();
    const live = await uploadPhoto(device.token, 1, fakeJpeg());
    await sql`update public.devices set revoked_at = now() where id = ${device.deviceId}`;
    await sweepUploads(sql, stackStorage(), { ttlSeconds: TTL });
    expect(await getObject(live.object_key)).not.toBeNull(); // its URL could still write: wait
    await sql`update public.device_upload_reservations set signed_until = now() - interval '1 second'
               where device_id = ${device.deviceId}`;
    await sweepUploads(sql, stackStorage(), { ttlSeconds: TTL });
    expect(await getObject(live.object_key)).toBeNull();
    expect(await reservations(device.deviceId)).toEqual([]);
  });

  it("finishes a sweep that crashed after choosing its keys", async () => {
    const device = await activatedDevice();
    const orphan = await uploadPhoto(device.token, 1, fakeJpeg());
    await age(device.deviceId);
    const broken = { ...stackStorage(), deleteObject: () => Promise.reject(new Error("crash")) };
    await expect(sweepUploads(sql, broken, { ttlSeconds: TTL })).rejects.toThrow("crash");
    expect(await getObject(orphan.object_key)).not.toBeNull();
    expect(await reservations(device.deviceId)).toEqual([]); // queued for deletion
    await sweepUploads(sql, stackStorage(), { ttlSeconds: TTL });
    expect(await getObject(orphan.object_key)).toBeNull();
  });
});
