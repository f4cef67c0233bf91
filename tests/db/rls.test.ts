// Row level security as the web app sees it: PostgREST runs queries as role
// `authenticated` with the user's JWT claims in request.jwt.claims.
import { describe, expect, it } from "vitest";
import { activatedDevice, deviceHeaders, fakeJpeg, ingestBody, post, sql, uploadPhoto } from "../support/stack.ts";

async function asRole<T>(role: "anon" | "authenticated", userId: string | null, query: (tx: typeof sql) => Promise<T>) {
  let result: T;
  await sql.begin(async (tx) => {
    await tx.unsafe(`set local role ${role}`);
    const claims = userId ? { sub: userId, role } : { role };
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
    result = await query(tx as unknown as typeof sql);
  });
  return result!;
}

async function deviceWithItem() {
  const d = await activatedDevice();
  const t = await uploadPhoto(d.token, 1, fakeJpeg());
  const r = await post("ingest", ingestBody(t.object_key, 1), deviceHeaders(d.token));
  return { ...d, itemId: r.body.item_id as string };
}

describe("row level security", () => {
  it("a user sees their own devices, items and jobs, and none of anyone else's", async () => {
    const a = await deviceWithItem();
    const b = await deviceWithItem();
    const seen = await asRole("authenticated", a.user.id, async (tx) => ({
      devices: await tx`select id, user_id from public.devices`,
      items: await tx`select id, user_id from public.source_items`,
      jobs: await tx`select item_id from public.processing_jobs`,
      bDevice: await tx`select id from public.devices where id = ${b.deviceId}`,
      bItem: await tx`select id from public.source_items where id = ${b.itemId}`,
    }));
    expect(seen.devices.map((d) => d.id)).toEqual([a.deviceId]);
    expect(seen.items.map((i) => i.id)).toEqual([a.itemId]);
    expect(seen.jobs.map((j) => j.item_id)).toEqual([a.itemId]);
    expect(seen.bDevice).toHaveLength(0);
    expect(seen.bItem).toHaveLength(0);
  });

  it("the token hash is not readable, not even one's own", async () => {
    const a = await deviceWithItem();
    const err = await asRole("authenticated", a.user.id, (tx) => tx`select device_token_hash from public.devices`)
      .catch((e) => e);
    expect(err?.code).toBe("42501");
    const star = await asRole("authenticated", a.user.id, (tx) => tx`select * from public.devices`).catch((e) => e);
    expect(star?.code).toBe("42501"); // select * includes the hash column: refused as a whole
  });

  it("users cannot write devices or items, nor read codes and reservations", async () => {
    const a = await deviceWithItem();
    for (const q of [
      (tx: typeof sql) => tx`update public.devices set name = 'x' where id = ${a.deviceId}`,
      (tx: typeof sql) => tx`insert into public.source_items (user_id, item_type, storage_key, content_type, captured_at, ntp_synced)
                             values (${a.user.id}, 'photo', 'k', 'image/jpeg', now(), true)`,
      (tx: typeof sql) => tx`select * from public.device_pairing_codes`,
      (tx: typeof sql) => tx`select * from public.device_upload_reservations`,
      (tx: typeof sql) => tx`select * from device_api.rate_limit_windows`,
      (tx: typeof sql) => tx`select device_api.authenticate('x')`,
    ]) {
      const err = await asRole("authenticated", a.user.id, q).catch((e) => e);
      expect(err?.code).toBe("42501");
    }
  });

  it("anon reads nothing", async () => {
    await deviceWithItem();
    for (const table of ["devices", "source_items", "processing_jobs", "device_pairing_codes"]) {
      const err = await asRole("anon", null, (tx) => tx.unsafe(`select id from public.${table}`)).catch((e) => e);
      expect(err?.code, table).toBe("42501");
    }
  });
});
