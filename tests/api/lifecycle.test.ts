// The device lifecycle routes: list, rename, revoke, settings (user JWT); rotate and
// heartbeat (device token). Rotation never strands a camera; another user's device is a
// 404 that reveals nothing on every route; hostile input is a 400 that changes nothing.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  activatedDevice, deviceHeaders, fakeJpeg, ingestBody, newUser, pairDevice, post, sql, stack, uploadPhoto, uploadUrlBody,
} from "../support/stack.ts";
import { deviceAction, heartbeat, lifecycleSnapshot, listDevices, rotate, validHeartbeat } from "../support/lifecycle.ts";

describe("token rotation", () => {
  it("a lost rotate answer leaves the old token working; the new token's first use retires the old one", async () => {
    const d = await activatedDevice();
    const lost = await rotate(d.token);
    expect(lost.status).toBe(201);
    expect(lost.body.device_token).toMatch(/^devtok_/);
    expect(lost.body.device_token).not.toBe(d.token);
    // The camera never heard the answer: its old token still works, again and again.
    expect((await post("upload-url", uploadUrlBody(1), deviceHeaders(d.token))).status).toBe(200);
    expect((await heartbeat(d.token)).status).toBe(200);

    // It asks again; the token it never received is dropped.
    const second = await rotate(d.token);
    expect(second.status).toBe(201);
    expect((await heartbeat(lost.body.device_token)).body).toMatchObject({ error: { code: "invalid_token" } });
    expect((await heartbeat(d.token)).status).toBe(200);

    // First use of the new token: from then on the old one is refused with token_rotated.
    expect((await post("upload-url", uploadUrlBody(2), deviceHeaders(second.body.device_token))).status).toBe(200);
    const old = await heartbeat(d.token);
    expect(old.status).toBe(401);
    expect(old.body).toMatchObject({ error: { code: "token_rotated" } });
    expect((await post("upload-url", uploadUrlBody(3), deviceHeaders(d.token))).body).toMatchObject({ error: { code: "token_rotated" } });
    expect((await heartbeat(second.body.device_token)).status).toBe(200);

    const [row] = await sql`select device_token_hash, pending_token_hash from public.devices where id = ${d.deviceId}`;
    expect(row.pending_token_hash).toBeNull();
    const [{ n }] = await sql`select count(*)::int as n from public.device_retired_tokens where device_id = ${d.deviceId}`;
    expect(n).toBe(1);
  });

  it("concurrent first uses of the new token all succeed and retire the old token once", async () => {
    const d = await activatedDevice();
    const fresh = (await rotate(d.token)).body.device_token;
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      post("upload-url", uploadUrlBody(100 + i), deviceHeaders(fresh))));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
    expect((await heartbeat(d.token)).body).toMatchObject({ error: { code: "token_rotated" } });
    const [{ n }] = await sql`select count(*)::int as n from public.device_retired_tokens where device_id = ${d.deviceId}`;
    expect(n).toBe(1);
  });

  it("a revoked device cannot rotate, and revoking drops a pending token", async () => {
    const d = await activatedDevice();
    const pending = (await rotate(d.token)).body.device_token;
    expect((await deviceAction(d.user.token, d.deviceId, "revoke")).status).toBe(200);
    expect((await rotate(d.token)).body).toMatchObject({ error: { code: "token_revoked" } });
    expect((await heartbeat(pending)).body).toMatchObject({ error: { code: "invalid_token" } });
  });

  it("the heartbeat asks for a rotation once the token is old", async () => {
    const d = await activatedDevice();
    expect((await heartbeat(d.token)).body.rotate_token).toBe(false);
    await sql`update public.devices set token_issued_at = now() - interval '91 days' where id = ${d.deviceId}`;
    expect((await heartbeat(d.token)).body.rotate_token).toBe(true);
    const fresh = (await rotate(d.token)).body.device_token;
    expect((await heartbeat(fresh)).body.rotate_token).toBe(false);
  });
});

describe("heartbeat", () => {
  it("stores the status and answers the owner's settings and when to call again", async () => {
    const d = await activatedDevice();
    const first = await heartbeat(d.token);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ settings: { paused: false, capture_interval_s: null }, next_heartbeat_s: 60, rotate_token: false });
    await deviceAction(d.user.token, d.deviceId, "settings", { paused: true, capture_interval_s: 45 });
    expect((await heartbeat(d.token, { ...validHeartbeat, last_error: null, rssi_dbm: null })).body.settings)
      .toEqual({ paused: true, capture_interval_s: 45 });
    const [device] = (await listDevices(d.user.token)).body.devices;
    expect(device.firmware_version).toBe("0.3.0");
    expect(device.status).toMatchObject({ free_bytes: 3_000_000_000, queue_depth: 4, dropped: 1, quarantined: 0,
      last_error: null, uptime_s: 3600, rssi_dbm: null, clock_synced: true });
  });

  const hostile: Array<[string, Record<string, unknown>]> = [
    ["negative free space", { free_bytes: -1 }],
    ["fractional queue", { queue_depth: 1.5 }],
    ["huge counter", { dropped: 2 ** 60 }],
    ["queue above int32", { queue_depth: 2 ** 31 }],
    ["string number", { uptime_s: "3600" }],
    ["positive RSSI", { rssi_dbm: 12 }],
    ["RSSI far below", { rssi_dbm: -500 }],
    ["control characters in the error", { last_error: "bad\u0000\u001b[31mred" }],
    ["an essay of an error", { last_error: "x".repeat(201) }],
    ["script in the version", { firmware_version: "<script>alert(1)</script>" }],
    ["empty version", { firmware_version: "" }],
    ["clock as a string", { clock_synced: "yes" }],
    ["missing fields", { queue_depth: undefined }],
    ["null counter", { quarantined: null }],
  ];
  it.each(hostile)("%s → 400 invalid_request, nothing changes", async (_, change) => {
    const d = await activatedDevice();
    expect((await heartbeat(d.token)).status).toBe(200);
    const before = await lifecycleSnapshot(d.deviceId);
    const r = await heartbeat(d.token, { ...validHeartbeat, ...change, free_bytes: change.free_bytes ?? 1 });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body).toMatchObject({ error: { code: "invalid_request" } });
    expect(await lifecycleSnapshot(d.deviceId)).toEqual(before);
  });

  it("refuses a body that is not JSON or too large, and a missing token", async () => {
    const d = await activatedDevice();
    const before = await lifecycleSnapshot(d.deviceId);
    expect((await post("heartbeat", "{not json", deviceHeaders(d.token))).body).toMatchObject({ error: { code: "invalid_json" } });
    expect((await post("heartbeat", { ...validHeartbeat, pad: "x".repeat(20_000) }, deviceHeaders(d.token))).status).toBe(413);
    expect((await post("heartbeat", validHeartbeat)).body).toMatchObject({ error: { code: "missing_token" } });
    expect(await lifecycleSnapshot(d.deviceId)).toEqual(before);
  });
});

describe("owner routes", () => {
  it("GET /devices lists the caller's devices with counts that match the database, never token material", async () => {
    const d = await activatedDevice();
    const pending = await pairDevice(d.user.token, "not yet online");
    for (const seq of [1, 2, 3]) {
      const t = await uploadPhoto(d.token, seq, fakeJpeg());
      expect((await post("ingest", ingestBody(t.object_key, seq), deviceHeaders(d.token))).status).toBe(201);
    }
    // One item from yesterday (UTC) counts in the total only.
    await sql`update public.source_items set created_at = date_trunc('day', now() at time zone 'utc') at time zone 'utc' - interval '1 second'
               where device_id = ${d.deviceId} and device_seq = 1`;
    const r = await listDevices(d.user.token);
    expect(r.status).toBe(200);
    expect(r.body.devices.map((x) => x.id)).toEqual([d.deviceId, pending.device_id]);
    const [mine] = r.body.devices;
    const [db] = await sql`select count(*)::int as total,
        count(*) filter (where created_at >= date_trunc('day', now() at time zone 'utc') at time zone 'utc')::int as today
        from public.source_items where device_id = ${d.deviceId}`;
    expect(mine.items).toEqual({ today: db.today, total: db.total });
    expect(mine.items).toEqual({ today: 2, total: 3 });
    expect(mine.activated_at).not.toBeNull();
    expect(r.body.devices[1]).toMatchObject({ name: "not yet online", activated_at: null, items: { today: 0, total: 0 } });
    const text = JSON.stringify(r.body);
    expect(text).not.toMatch(/hash|devtok_|token/);
  });

  it("rename, settings and revoke change only the caller's device; revoke is idempotent", async () => {
    const d = await activatedDevice();
    const renamed = await deviceAction(d.user.token, d.deviceId, "rename", { name: "  hallway  " });
    expect(renamed.status).toBe(200);
    expect(renamed.body.device.name).toBe("hallway");
    const paused = await deviceAction(d.user.token, d.deviceId, "settings", { paused: true });
    expect(paused.body.device.settings).toMatchObject({ paused: true, capture_interval_s: null });
    const interval = await deviceAction(d.user.token, d.deviceId, "settings", { capture_interval_s: 120 });
    expect(interval.body.device.settings).toMatchObject({ paused: true, capture_interval_s: 120 });
    const back = await deviceAction(d.user.token, d.deviceId, "settings", { paused: false, capture_interval_s: null });
    expect(back.body.device.settings).toMatchObject({ paused: false, capture_interval_s: null });

    const first = await deviceAction(d.user.token, d.deviceId, "revoke");
    expect(first.status).toBe(200);
    expect(first.body.device.revoked_at).not.toBeNull();
    const again = await deviceAction(d.user.token, d.deviceId, "revoke");
    expect(again.body.device.revoked_at).toBe(first.body.device.revoked_at);
    expect((await post("upload-url", uploadUrlBody(1), deviceHeaders(d.token))).body).toMatchObject({ error: { code: "token_revoked" } });
    expect((await heartbeat(d.token)).body).toMatchObject({ error: { code: "token_revoked" } });
    const late = await deviceAction(d.user.token, d.deviceId, "settings", { paused: true });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: { code: "device_revoked" } });
  });

  const badBodies: Array<["rename" | "settings", unknown]> = [
    ["rename", {}], ["rename", { name: "" }], ["rename", { name: "   " }], ["rename", { name: "x".repeat(65) }], ["rename", { name: 7 }],
    ["settings", {}], ["settings", { paused: "yes" }], ["settings", { capture_interval_s: 4 }],
    ["settings", { capture_interval_s: 3601 }], ["settings", { capture_interval_s: 30.5 }], ["settings", { capture_interval_s: "30" }],
  ];
  it.each(badBodies)("%s with %j → 400, nothing changes", async (action, body) => {
    const d = await activatedDevice();
    const before = await lifecycleSnapshot(d.deviceId);
    const r = await deviceAction(d.user.token, d.deviceId, action, body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: "invalid_request" } });
    expect(await lifecycleSnapshot(d.deviceId)).toEqual(before);
  });

  it("another user's device id is a 404 on every route, the same as an id that does not exist, and nothing changes", async () => {
    const victim = await activatedDevice();
    expect((await heartbeat(victim.token)).status).toBe(200);
    const intruder = await newUser();
    const before = await lifecycleSnapshot(victim.deviceId);
    const attempts: Array<["rename" | "revoke" | "settings", unknown]> = [
      ["rename", { name: "mine now" }], ["revoke", {}], ["settings", { paused: true }], ["settings", { capture_interval_s: 5 }],
    ];
    for (const [action, body] of attempts) {
      const theirs = await deviceAction(intruder.token, victim.deviceId, action, body);
      const nobody = await deviceAction(intruder.token, randomUUID(), action, body);
      const garbage = await deviceAction(intruder.token, "not-a-uuid", action, body);
      expect(theirs.status, action).toBe(404);
      expect(theirs.body).toEqual({ error: { code: "device_not_found", message: "You have no device with this id." } });
      expect(nobody.body).toEqual(theirs.body);
      expect(garbage.body).toEqual(theirs.body);
    }
    expect((await listDevices(intruder.token)).body.devices).toEqual([]);
    expect(await lifecycleSnapshot(victim.deviceId)).toEqual(before);
    // …and the owner still can.
    expect((await deviceAction(victim.user.token, victim.deviceId, "rename", { name: "still mine" })).status).toBe(200);
  });

  it("owner routes need a signed-in user and use the right method", async () => {
    const d = await activatedDevice();
    const anon = await fetch(`${stack.api_base}/devices`);
    expect(anon.status).toBe(401);
    expect((await deviceAction("not.a.jwt", d.deviceId, "rename", { name: "x" })).body).toMatchObject({ error: { code: "invalid_authorization" } });
    const wrongMethod = await fetch(`${stack.api_base}/devices`, { method: "POST", headers: { authorization: `Bearer ${d.user.token}` } });
    expect(wrongMethod.status).toBe(405);
    const getRename = await fetch(`${stack.api_base}/devices/${d.deviceId}/rename`, { headers: { authorization: `Bearer ${d.user.token}` } });
    expect(getRename.status).toBe(405);
    expect((await deviceAction(d.user.token, d.deviceId, "explode" as "rename")).status).toBe(404);
  });
});

describe("row level security of the new columns and tables", () => {
  async function asUser<T>(userId: string, query: (tx: typeof sql) => Promise<T>): Promise<T> {
    let result: T;
    await sql.begin(async (tx) => {
      await tx.unsafe("set local role authenticated");
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: userId, role: "authenticated" })}, true)`;
      result = await query(tx as unknown as typeof sql);
    });
    return result!;
  }

  it("owners read their settings and status, nobody reads pending or retired token hashes", async () => {
    const a = await activatedDevice();
    const b = await activatedDevice();
    for (const d of [a, b]) expect((await heartbeat(d.token)).status).toBe(200);
    await rotate(a.token);
    const settings = await asUser(a.user.id, (tx) => tx`select id, paused, capture_interval_s, token_issued_at from public.devices`);
    expect(settings.map((r) => r.id)).toEqual([a.deviceId]);
    const status = await asUser(a.user.id, (tx) => tx`select device_id, queue_depth from public.device_status`);
    expect(status.map((r) => r.device_id)).toEqual([a.deviceId]);
    for (const q of [
      (tx: typeof sql) => tx`select pending_token_hash from public.devices`,
      (tx: typeof sql) => tx`select * from public.device_retired_tokens`,
      (tx: typeof sql) => tx`update public.devices set paused = true where id = ${a.deviceId}`,
      (tx: typeof sql) => tx`insert into public.device_status (device_id, firmware_version, free_bytes, queue_depth, dropped, quarantined, uptime_s, clock_synced)
                             values (${a.deviceId}, 'x', 0, 0, 0, 0, 0, true)`,
      (tx: typeof sql) => tx`select device_api.list_devices(${a.user.id}::uuid, 10)`,
    ]) {
      const err = await asUser(a.user.id, q).catch((e) => e);
      expect(err?.code).toBe("42501");
    }
  });
});
