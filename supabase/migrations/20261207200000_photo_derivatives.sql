-- Photo derivatives: what the photo worker makes of each ingested photo (a preview and a
-- thumbnail in the same bucket, under derivatives/<item id>/) and what it measures (size,
-- mean luma, sharpness, a 64-bit dHash). One row per item, written in the same transaction
-- that completes the item's job.
--
-- Crash safety: derivative keys are a function of the item (processing.derivative_key), so
-- a re-run overwrites the same objects. Before uploading, the worker records the keys it is
-- about to write (processing.derivative_uploads); completing the job drops them. Keys left
-- behind by a job that died without completing go to the deletion queue
-- (processing.queue_abandoned_derivatives), so no object outlives a missing row.

create function processing.derivative_key(p_item_id uuid, p_kind text)
returns text language sql immutable set search_path = '' as $$
  select 'derivatives/' || p_item_id::text || '/' || p_kind || '.webp'
$$;

create table public.photo_derivatives (
  item_id         uuid primary key references public.source_items (id) on delete cascade,
  user_id         uuid not null references auth.users (id) on delete cascade,
  device_id       uuid references public.devices (id) on delete set null,
  captured_at     timestamptz not null,
  width           integer not null check (width > 0),
  height          integer not null check (height > 0),
  -- mean Rec. 601 luma of the photo, 0..255
  mean_luma       real not null check (mean_luma between 0 and 255),
  -- variance of the 3x3 Laplacian of the luma at 512 px on the long side: low is blurry
  sharpness       real not null check (sharpness >= 0),
  -- difference hash of a 9x8 luma thumbnail, 64 bits as a signed bigint
  dhash           bigint not null,
  preview_key     text not null unique,
  preview_bytes   integer not null check (preview_bytes > 0),
  thumbnail_key   text not null unique,
  thumbnail_bytes integer not null check (thumbnail_bytes > 0),
  processed_at    timestamptz not null default now(),
  constraint derivative_keys_are_the_items
    check (preview_key = processing.derivative_key(item_id, 'preview')
       and thumbnail_key = processing.derivative_key(item_id, 'thumbnail'))
);
create index photo_derivatives_user_captured_idx on public.photo_derivatives (user_id, captured_at, item_id);
create index photo_derivatives_device_captured_idx on public.photo_derivatives (device_id, captured_at, item_id);

alter table public.photo_derivatives enable row level security;
revoke all on public.photo_derivatives from anon, authenticated;
grant select on public.photo_derivatives to authenticated;
create policy "owners read their photo derivatives" on public.photo_derivatives
  for select to authenticated using (user_id = (select auth.uid()));

-- Keys a worker is writing for a job that has not completed yet.
create table processing.derivative_uploads (
  object_key  text primary key,
  item_id     uuid not null,
  queued_at   timestamptz not null default now()
);
create index derivative_uploads_item_idx on processing.derivative_uploads (item_id);
alter table processing.derivative_uploads enable row level security;
revoke all on processing.derivative_uploads from public;

-- The job's item, if the job is still leased to p_worker; records the derivative keys
-- about to be written.
create function processing.begin_photo_job(p_job_id uuid, p_worker text)
returns table (item_id uuid, storage_key text, preview_key text, thumbnail_key text)
language plpgsql security definer set search_path = '' as $$
declare
  v_item_id uuid;
begin
  select j.item_id into v_item_id from public.processing_jobs j
   where j.id = p_job_id and j.status = 'running' and j.locked_by = p_worker;
  if v_item_id is null then
    return;
  end if;
  insert into processing.derivative_uploads (object_key, item_id)
  values (processing.derivative_key(v_item_id, 'preview'), v_item_id),
         (processing.derivative_key(v_item_id, 'thumbnail'), v_item_id)
  on conflict do nothing;
  return query
    select i.id, i.storage_key, processing.derivative_key(i.id, 'preview'), processing.derivative_key(i.id, 'thumbnail')
      from public.source_items i where i.id = v_item_id;
end $$;

-- Records the derivatives and completes the job, in one transaction. False (and nothing
-- written) when the job is no longer leased to p_worker: its new holder writes them.
create function processing.complete_photo_job(
  p_job_id uuid, p_worker text, p_width integer, p_height integer, p_mean_luma real,
  p_sharpness real, p_dhash bigint, p_preview_bytes integer, p_thumbnail_bytes integer)
returns boolean language plpgsql security definer set search_path = '' as $$
declare
  v_item public.source_items;
begin
  select i.* into v_item from public.processing_jobs j join public.source_items i on i.id = j.item_id
   where j.id = p_job_id and j.status = 'running' and j.locked_by = p_worker
   for update of j;
  if v_item.id is null then
    return false;
  end if;
  insert into public.photo_derivatives (item_id, user_id, device_id, captured_at, width, height, mean_luma,
                                        sharpness, dhash, preview_key, preview_bytes, thumbnail_key, thumbnail_bytes)
  values (v_item.id, v_item.user_id, v_item.device_id, v_item.captured_at, p_width, p_height, p_mean_luma,
          p_sharpness, p_dhash, processing.derivative_key(v_item.id, 'preview'), p_preview_bytes,
          processing.derivative_key(v_item.id, 'thumbnail'), p_thumbnail_bytes)
  on conflict on constraint photo_derivatives_pkey do update
     set width = excluded.width, height = excluded.height, mean_luma = excluded.mean_luma,
         sharpness = excluded.sharpness, dhash = excluded.dhash, preview_bytes = excluded.preview_bytes,
         thumbnail_bytes = excluded.thumbnail_bytes, processed_at = now();
  delete from processing.derivative_uploads u where u.item_id = v_item.id;
  return processing.complete_job(p_job_id, p_worker);
end $$;

-- A job whose photo can never be processed (not a JPEG, truncated, too many pixels): dead
-- at once with its reason, instead of retried for hours. False if no longer p_worker's.
create function processing.give_up_job(p_job_id uuid, p_worker text, p_error text)
returns boolean language plpgsql security definer set search_path = '' as $$
declare
  v_item_id uuid;
begin
  update public.processing_jobs
     set status = 'dead', locked_by = null, lease_until = null, last_error = p_error,
         updated_at = now(), finished_at = now()
   where id = p_job_id and status = 'running' and locked_by = p_worker
  returning item_id into v_item_id;
  if v_item_id is null then
    return false;
  end if;
  update public.source_items set status = 'failed' where id = v_item_id;
  return true;
end $$;

-- A worker that starts again under the same name holds no job any more: its jobs become
-- claimable at once instead of when their leases run out.
create function processing.release_jobs(p_worker text)
returns integer language sql security definer set search_path = '' as $$
  with released as (
    update public.processing_jobs set lease_until = now() - interval '1 millisecond', updated_at = now()
     where status = 'running' and locked_by = p_worker
    returning 1)
  select count(*)::integer from released
$$;

-- Derivative keys of items whose job will not run again (dead, or the item is gone) and
-- that have no row go into the deletion queue; answers the queued derivative keys, which
-- the caller deletes and confirms with processing.confirm_deleted.
create function processing.queue_abandoned_derivatives(p_limit integer default 500)
returns table (object_key text)
language plpgsql security definer set search_path = '' as $$
begin
  with abandoned as (
    delete from processing.derivative_uploads u
     where not exists (select 1 from public.processing_jobs j
                        where j.item_id = u.item_id and j.status in ('queued', 'running'))
       and not exists (select 1 from public.photo_derivatives d where d.item_id = u.item_id)
    returning u.object_key
  )
  insert into device_api.storage_deletions (object_key, reason)
  select a.object_key, 'abandoned derivative' from abandoned a
  on conflict do nothing;
  return query select q.object_key from device_api.storage_deletions q
    where q.object_key like 'derivatives/%' order by q.queued_at limit p_limit;
end $$;

revoke all on function processing.derivative_key(uuid, text), processing.begin_photo_job(uuid, text),
  processing.complete_photo_job(uuid, text, integer, integer, real, real, bigint, integer, integer),
  processing.give_up_job(uuid, text, text), processing.release_jobs(text), processing.queue_abandoned_derivatives(integer) from public;
grant execute on function processing.derivative_key(uuid, text), processing.begin_photo_job(uuid, text),
  processing.complete_photo_job(uuid, text, integer, integer, real, real, bigint, integer, integer),
  processing.give_up_job(uuid, text, text), processing.release_jobs(text), processing.queue_abandoned_derivatives(integer) to service_role;
grant select on public.photo_derivatives to service_role;

-- ---------------------------------------------------------------------------
-- Triage and moments, per device in capture order, read as the caller (RLS applies).
-- Thresholds from `npm run bench:triage` (real photographs and their darkened, blurred and
-- shifted + noised copies; docs/photos.md): dark below mean luma 16, blurry below a
-- Laplacian variance of 26, a near-duplicate within 11 bits of dHash of the photo before.
-- A moment starts after a capture gap of over 15 minutes or a scene change (over 24 bits
-- from the photo before); its id is its first photo's. Flags hide; nothing is deleted here.
-- ---------------------------------------------------------------------------
create view public.photo_triage with (security_invoker = true) as
with ordered as (
  select d.item_id, d.user_id, d.device_id, d.captured_at,
         d.mean_luma < 16 as dark,
         d.mean_luma >= 16 and d.sharpness < 26 as blurry,
         bit_count((d.dhash # lag(d.dhash) over w)::bit(64)) as distance,
         d.captured_at - lag(d.captured_at) over w as gap
    from public.photo_derivatives d
  window w as (partition by d.device_id order by d.captured_at, d.item_id)
), numbered as (
  select o.*, count(*) filter (where o.gap is null or o.gap > interval '15 minutes' or o.distance > 24)
                over (partition by o.device_id order by o.captured_at, o.item_id) as moment_no
    from ordered o
)
select n.item_id, n.user_id, n.device_id, n.captured_at, n.dark, n.blurry,
       (not n.dark and not n.blurry and coalesce(n.distance <= 11, false)) as duplicate,
       first_value(n.item_id) over (partition by n.device_id, n.moment_no order by n.captured_at, n.item_id) as moment_id
  from numbered n;

grant select on public.photo_triage to authenticated, service_role;
