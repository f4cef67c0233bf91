// Keeps public.photo_triage in step with the rule in triage.ts: after a photo's derivatives
// are recorded (in the same transaction), its device's photos are triaged again from that
// photo on, until a kept photo comes out as it was stored (from there on nothing can change).
// A photo that arrives late (a camera back online) so re-triages only what follows it.
import type { TransactionSql } from "postgres";
import { isKept, type MeasuredPhoto, type PhotoTriage, triageNext, type TriageState } from "./triage.ts";

type Tx = TransactionSql;

interface Row {
  item_id: string;
  user_id: string;
  captured_ms: number;
  captured_at: Date;
  mean_luma: number;
  sharpness: number;
  dhash: string;
  dark: boolean | null;
  blurry: boolean | null;
  duplicate: boolean | null;
  moment_id: string | null;
}

const measured = (r: Row): MeasuredPhoto => ({
  itemId: r.item_id, capturedAtMs: r.captured_ms, meanLuma: r.mean_luma, sharpness: r.sharpness, dhash: BigInt(r.dhash),
});

const same = (t: PhotoTriage, r: Row) =>
  r.dark === t.dark && r.blurry === t.blurry && r.duplicate === t.duplicate && r.moment_id === t.momentId;

/** Re-triages the device of `itemId` from that photo on; answers how many rows it wrote.
 * `visited` gets the id of every photo it triaged, changed or not. */
export async function retriageFrom(tx: Tx, itemId: string, chunk = 500, visited?: Set<string>): Promise<number> {
  // the device and its triage lock in one round trip (no lock when there is no device)
  const [start] = await tx<{ device_id: string | null }[]>`
    select device_id, case when device_id is not null
                           then pg_advisory_xact_lock(hashtext('photo-triage:' || device_id)) end::text as locked
      from public.photo_derivatives where item_id = ${itemId}`;
  if (!start?.device_id) return 0;
  const deviceId = start.device_id;

  // the state after the photo just before this one, from what is stored
  // (each a backward index scan on photo_derivatives (device_id, captured_at, item_id))
  const earlier = (filter: ReturnType<typeof tx>) => tx`
    select d.dhash::text from public.photo_derivatives d join public.photo_triage t on t.item_id = d.item_id, p
     where d.device_id = ${deviceId} and (d.captured_at, d.item_id) < (p.captured_at, p.item_id) and ${filter}
     order by d.captured_at desc, d.item_id desc limit 1`;
  const [before] = await tx<{ captured_ms: number | null; moment_id: string | null; usable: string | null; kept: string | null }[]>`
    with p as (select captured_at, item_id from public.photo_derivatives where item_id = ${itemId}),
    last as (
      select d.captured_at, t.moment_id from public.photo_derivatives d left join public.photo_triage t on t.item_id = d.item_id, p
       where d.device_id = ${deviceId} and (d.captured_at, d.item_id) < (p.captured_at, p.item_id)
       order by d.captured_at desc, d.item_id desc limit 1)
    select (select extract(epoch from captured_at) * 1000 from last)::float8 as captured_ms,
           (select moment_id from last) as moment_id,
           (${earlier(tx`not t.dark and not t.blurry`)}) as usable,
           (${earlier(tx`not t.dark and not t.blurry and not t.duplicate and t.moment_id = (select moment_id from last)`)}) as kept`;
  let state: TriageState = {
    lastCapturedAtMs: before?.captured_ms ?? null,
    lastUsableHash: before?.usable != null ? BigInt(before.usable) : null,
    lastKeptHash: before?.kept != null ? BigInt(before.kept) : null,
    momentId: before?.moment_id ?? null,
  };

  let written = 0;
  let after: string | null = null;
  for (;;) {
    const rows: Row[] = await tx<Row[]>`
      with p as (select captured_at, item_id from public.photo_derivatives where item_id = ${after ?? itemId})
      select d.item_id, d.user_id, (extract(epoch from d.captured_at) * 1000)::float8 as captured_ms, d.captured_at,
             d.mean_luma, d.sharpness, d.dhash::text as dhash, t.dark, t.blurry, t.duplicate, t.moment_id
        from public.photo_derivatives d left join public.photo_triage t on t.item_id = d.item_id, p
       where d.device_id = ${deviceId}
         and ${after === null ? tx`(d.captured_at, d.item_id) >= (p.captured_at, p.item_id)` : tx`(d.captured_at, d.item_id) > (p.captured_at, p.item_id)`}
       order by d.captured_at, d.item_id
       limit ${chunk}`;
    const changed: Array<Record<string, unknown>> = [];
    let settled = false;
    for (const r of rows) {
      visited?.add(r.item_id);
      const next = triageNext(state, measured(r));
      state = next.state;
      const t = next.triage;
      if (same(t, r)) {
        if (r.item_id !== itemId && isKept(t)) { settled = true; break; }
        continue;
      }
      changed.push({ item_id: r.item_id, user_id: r.user_id, device_id: deviceId, captured_at: r.captured_at,
                     dark: t.dark, blurry: t.blurry, duplicate: t.duplicate, moment_id: t.momentId });
    }
    if (changed.length) {
      await tx`
        insert into public.photo_triage ${tx(changed, "item_id", "user_id", "device_id", "captured_at", "dark", "blurry", "duplicate", "moment_id")}
        on conflict (item_id) do update set dark = excluded.dark, blurry = excluded.blurry, duplicate = excluded.duplicate,
          moment_id = excluded.moment_id, triaged_at = now()`;
      written += changed.length;
    }
    if (settled || rows.length < chunk) return written;
    after = rows[rows.length - 1].item_id;
  }
}

/** Re-triages after a batch of new photos: from the earliest of them on, and again from any the
 * pass did not reach (it stops where a kept photo comes out as stored). A photo that has no
 * triage yet never comes out as stored, so a camera's photos in capture order take one pass;
 * any order is correct, the capture order only saves passes. */
export async function retriageAll(tx: Tx, photos: Array<{ itemId: string; capturedAt: Date }>): Promise<number> {
  const visited = new Set<string>();
  let written = 0;
  const order = [...photos].sort((a, b) => a.capturedAt.getTime() - b.capturedAt.getTime() || (a.itemId < b.itemId ? -1 : 1));
  for (const { itemId } of order) {
    if (!visited.has(itemId)) written += await retriageFrom(tx, itemId, 500, visited);
  }
  return written;
}
