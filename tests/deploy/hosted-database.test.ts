// The database as a hosted project has it (scripts/stack/supabase-platform.sql), migrated
// by the real CLI as the non-superuser `postgres`; and a worker with the service key doing
// every step docs/processing.md describes, and nothing else.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/stack/stack.ts";
import { activatedDevice, deviceHeaders, fakeJpeg, ingestBody, post, sql, uploadPhoto } from "../support/stack.ts";

/** Runs query as role inside a transaction that is always rolled back. */
async function as<T>(role: string, query: (tx: typeof sql) => Promise<T>): Promise<T> {
  let result: T;
  await sql.begin(async (tx) => {
    await tx.unsafe(`set local role ${role}`);
    result = await query(tx as unknown as typeof sql);
    throw new RollBack();
  }).catch((e) => { if (!(e instanceof RollBack)) throw e; });
  return result!;
}
class RollBack extends Error {}
const refusal = (p: Promise<unknown>) => p.then(() => "allowed", (e) => e.code ?? String(e));

async function ingestedItem(seq = 1) {
  const d = await activatedDevice();
  const t = await uploadPhoto(d.token, seq, fakeJpeg());
  const r = await post("ingest", ingestBody(t.object_key, seq), deviceHeaders(d.token));
  if (r.status !== 201) throw new Error(`ingest: ${r.status}`);
  return { itemId: r.body.item_id as string, objectKey: t.object_key };
}

describe("the hosted-like platform", () => {
  it("has migrations applied by the CLI as postgres, which is not a superuser", async () => {
    const [me] = await sql`select current_user as name, r.rolsuper, r.rolcreaterole, r.rolbypassrls
                             from pg_roles r where r.rolname = current_user`;
    expect(me).toEqual({ name: "postgres", rolsuper: false, rolcreaterole: true, rolbypassrls: true });
    const owners = await sql`select distinct tableowner from pg_tables
                              where schemaname in ('public', 'supabase_migrations', 'device_api')`;
    expect(owners.map((o) => o.tableowner)).toEqual(["postgres"]);
    const files = (await import("node:fs")).readdirSync(join(PROJECT_ROOT, "supabase/migrations"));
    const applied = await sql`select version from supabase_migrations.schema_migrations order by version`;
    expect(applied.map((a) => a.version)).toEqual(files.map((f) => f.split("_")[0]).sort());
  });

  it("has the API roles as Supabase defines them", async () => {
    const roles = await sql`select rolname, rolinherit, rolbypassrls, rolcanlogin from pg_roles
                             where rolname in ('anon', 'authenticated', 'service_role', 'authenticator') order by rolname`;
    expect(roles).toEqual([
      { rolname: "anon", rolinherit: true, rolbypassrls: false, rolcanlogin: false },
      { rolname: "authenticated", rolinherit: true, rolbypassrls: false, rolcanlogin: false },
      { rolname: "authenticator", rolinherit: false, rolbypassrls: false, rolcanlogin: true },
      { rolname: "service_role", rolinherit: true, rolbypassrls: true, rolcanlogin: false },
    ]);
    for (const role of ["anon", "authenticated", "service_role"]) {
      const [m] = await sql`select pg_has_role('authenticator', ${role}, 'member') as a, pg_has_role('postgres', ${role}, 'member') as p`;
      expect(m, role).toEqual({ a: true, p: true });
    }
  });

  it("grants a new public table to no API role", async () => {
    const privileges = await as("postgres", async (tx) => {
      await tx`create table public.hosted_default_privileges_probe (id int)`;
      return tx`select r as role, has_table_privilege(r, 'public.hosted_default_privileges_probe', 'select') as can
                  from unnest(array['anon', 'authenticated', 'service_role']) r`;
    });
    expect(privileges.map((p) => p.can)).toEqual([false, false, false]);
  });

  it("has auth.uid() and auth.jwt() reading the request's claims as Supabase's do", async () => {
    const id = "2f1c6d4e-0000-4000-8000-000000000001";
    const [viaClaims] = await as("authenticated", async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: id, role: "authenticated" })}, true)`;
      return tx`select auth.uid() as uid, auth.jwt() ->> 'role' as role`;
    });
    expect(viaClaims).toEqual({ uid: id, role: "authenticated" });
    const [legacy] = await as("authenticated", async (tx) => {
      await tx`select set_config('request.jwt.claim.sub', ${id}, true)`;
      return tx`select auth.uid() as uid, auth.jwt() as jwt`;
    });
    expect(legacy).toEqual({ uid: id, jwt: null });
  });

  it("has the private bucket the migration creates, with supabase/config.toml's limits", async () => {
    const [bucket] = await sql`select id, name, public, file_size_limit, allowed_mime_types, type
                                 from storage.buckets where id = 'device-photos'`;
    expect(bucket).toEqual({
      id: "device-photos", name: "device-photos", public: false, file_size_limit: "10485760",
      allowed_mime_types: ["image/jpeg"], type: "STANDARD",
    });
    const toml = await readFile(join(PROJECT_ROOT, "supabase/config.toml"), "utf8");
    const block = /\[storage\.buckets\.device-photos\]([\s\S]*?)(?:\n\[|$)/.exec(toml)?.[1] ?? "";
    expect(block).toMatch(/file_size_limit = "10MiB"/); // 10 × 2^20 = 10485760
    expect(block).toMatch(/allowed_mime_types = \["image\/jpeg"\]/);
    expect(block).toMatch(/public = false/);
  });
});

describe("a worker with the service key (role service_role)", () => {
  it("claims a job, reads its item and storage key, completes it; fails another back to the queue", async () => {
    const first = await ingestedItem();
    const second = await ingestedItem();
    await as("service_role", async (tx) => {
      const claimed = await tx`select * from processing.claim_jobs('hosted-worker', 1000, 300)`;
      const byItem = new Map(claimed.map((j) => [j.item_id as string, j]));
      expect(byItem.has(first.itemId) && byItem.has(second.itemId)).toBe(true);
      const items = await tx`select id, storage_key, content_type, captured_at, user_id, metadata, status
                               from public.source_items where id in ${tx([first.itemId, second.itemId])} order by storage_key`;
      expect(items.map((i) => i.storage_key).sort()).toEqual([first.objectKey, second.objectKey].sort());
      expect(items.every((i) => i.status === "processing")).toBe(true);
      const objects = await tx`select name, metadata from storage.objects where bucket_id = 'device-photos' limit 1`;
      expect(Array.isArray(objects)).toBe(true); // Storage's own table is readable (Storage API reads it as this role)
      const [{ done }] = await tx`select processing.complete_job(${byItem.get(first.itemId)!.id}, 'hosted-worker') as done`;
      expect(done).toBe(true);
      const [{ outcome }] = await tx`select processing.fail_job(${byItem.get(second.itemId)!.id}, 'hosted-worker', 'thumbnailer crashed') as outcome`;
      expect(outcome).toBe("queued");
      const after = await tx`select id, status from public.source_items where id in ${tx([first.itemId, second.itemId])}`;
      expect(Object.fromEntries(after.map((i) => [i.id, i.status]))).toEqual({
        [first.itemId]: "processed", [second.itemId]: "queued",
      });
    });
  });

  it("claims and completes photo jobs in batches, the photo worker's way", async () => {
    const first = await ingestedItem();
    await as("service_role", async (tx) => {
      const claimed = await tx`select * from processing.claim_photo_jobs('hosted-batch-worker', 1000, 300)`;
      const job = claimed.find((j) => j.item_id === first.itemId)!;
      expect(job.storage_key).toBe(first.objectKey);
      expect(job.preview_key).toMatch(/^derivatives\//);
      const done = await tx`select job_id, done from processing.complete_photo_jobs('hosted-batch-worker', ${tx.json([{
        job_id: job.job_id, width: 800, height: 600, mean_luma: 90, sharpness: 300, dhash: "7", preview_bytes: 9000, thumbnail_bytes: 2000,
      }])})`;
      expect(done).toEqual([{ job_id: job.job_id, done: true }]);
      const [item] = await tx`select status from public.source_items where id = ${first.itemId}`;
      expect(item.status).toBe("processed");
    });
  });

  it("is refused everything else: writing jobs or items, devices, codes, reservations, device_api", async () => {
    const { itemId } = await ingestedItem();
    const attempts: Record<string, (tx: typeof sql) => Promise<unknown>> = {
      "update an item": (tx) => tx`update public.source_items set status = 'processed' where id = ${itemId}`,
      "delete an item": (tx) => tx`delete from public.source_items where id = ${itemId}`,
      "insert an item": (tx) => tx`insert into public.source_items (user_id, item_type, storage_key, content_type, captured_at, ntp_synced)
                                   select user_id, 'photo', 'x', 'image/jpeg', now(), true from public.source_items limit 1`,
      "read jobs directly": (tx) => tx`select id from public.processing_jobs limit 1`,
      "write jobs directly": (tx) => tx`update public.processing_jobs set status = 'done' where item_id = ${itemId}`,
      "read devices": (tx) => tx`select id from public.devices limit 1`,
      "read pairing codes": (tx) => tx`select id from public.device_pairing_codes limit 1`,
      "read reservations": (tx) => tx`select id from public.device_upload_reservations limit 1`,
      "read rate limits": (tx) => tx`select * from device_api.rate_limit_windows limit 1`,
      "call device_api": (tx) => tx`select device_api.authenticate('x')`,
    };
    for (const [what, attempt] of Object.entries(attempts)) {
      expect(await refusal(as("service_role", attempt)), what).toBe("42501");
    }
  });
});
